import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMessage } from '../../temporal-client/send-message.ts';
import { TURNS_QUERY, type TurnSummary } from '../../core/conversation.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';
import { startWorkerProcess } from '../../testkit/worker-process.ts';

const TOKEN = 'xoxb-crash-token';
const TEAM = 'T0TEAM';
const DM = 'D0ANA';
const ANSWER = `${'Tuesday, after the design review and the security sign-off. '.repeat(25)}That is the plan.`;

describe.skipIf(noTemporal)('a worker killed while it streams an answer', () => {
  const temporal = useTemporal();
  let slack: SlackApiServer;
  let model: GeminiServer;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [TOKEN] });
    // The first call streams part of the answer, then stalls; the retry streams all of it.
    model = await startScriptedModel((request) => ({
      content: { role: 'model', parts: [{ text: ANSWER }] },
      stream: { chunkChars: 50, delayMs: 20, ...(request.index === 0 ? { hangAfterChunks: 12 } : {}) },
    }));
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await slack?.close();
    await model?.close();
  });

  it('the retry on another worker finishes the same message: one answer, whole, marked', { timeout: 90_000 }, async () => {
    const taskQueue = temporal.taskQueue('stream-crash');
    const env = {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      GOOGLE_API_KEY: 'test-key',
      GEMINI_BASE_URL: model.url,
      TRANSCRIPT_DIR: mkdtempSync(join(tmpdir(), 'stream-crash-')),
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_API_URL: slack.url,
      APPROVAL_TOKEN_SECRET: 'crash-approval-secret',
    };
    const first = await startWorkerProcess(env);
    workers.push(first);

    const threadTs = slack.addUserMessage({ channel: DM, user: 'U0ANA', text: 'when is the launch?' });
    const conversationId = `slack:${TEAM}:${DM}:${threadTs}`;
    await sendMessage(temporal.client, {
      conversationId,
      taskQueue,
      start: { conversationId, agent: 'assistant', channel: { kind: 'slack', teamId: TEAM, channelId: DM, threadTs } },
      message: {
        id: `slack-message:${TEAM}:${DM}:${threadTs}`,
        text: 'when is the launch?',
        user: { id: 'U0ANA' },
        receivedAt: new Date().toISOString(),
      },
    });

    // Mid-stream: part of the answer is in Slack when the worker dies.
    const streamed = () => slack.messages(DM, threadTs).filter((message) => message.botId);
    await expect.poll(() => streamed()[0]?.text.length ?? 0, { timeout: 20_000 }).toBeGreaterThan(200);
    // Give the heartbeat carrying the message's ts time to reach the server.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const partial = streamed()[0]!.text;
    expect(partial.length).toBeLessThan(ANSWER.length);
    first.kill('SIGKILL');
    workers.push(await startWorkerProcess(env));

    const handle = temporal.client.workflow.getHandle(conversationId);
    await expect
      .poll(async () => (await handle.query<TurnSummary[]>(TURNS_QUERY))[0]?.status, { timeout: 60_000, interval: 500 })
      .toBe('answered');

    const messages = streamed();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toBe(ANSWER);
    expect(messages[0]?.metadata?.event_payload).toMatchObject({ key: `${conversationId}#1`, role: 'stream' });
    expect(slack.calls.filter((call) => call.method === 'chat.startStream')).toHaveLength(1);
    expect(model.requests).toHaveLength(2);
  });
});
