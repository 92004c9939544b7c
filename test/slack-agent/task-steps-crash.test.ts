import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMessage } from '../../temporal-client/send-message.ts';
import { TURNS_QUERY, type TurnSummary } from '../../core/conversation.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';
import { startWorkerProcess } from '../../testkit/worker-process.ts';

const TOKEN = 'xoxb-steps-crash';
const TEAM = 'T0TEAM';
const DM = 'D0ANA';
const ANSWER = `${'It is morning in Tokyo, and the office opens at nine. '.repeat(25)}That is all.`;

describe.skipIf(noTemporal)('task cards when a worker is killed mid-stream', () => {
  const temporal = useTemporal();
  let slack: SlackApiServer;
  let model: GeminiServer;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [TOKEN], appView: 'agent' });
    // Step 1 asks for a tool; step 2 streams part of the answer and stalls; its retry streams all of it.
    model = await startScriptedModel((request) =>
      request.index === 0
        ? callTools({ name: 'get_current_time', args: { timezone: 'Asia/Tokyo' } })
        : {
            content: { role: 'model', parts: [{ text: ANSWER }] },
            stream: { chunkChars: 50, delayMs: 20, ...(request.index === 1 ? { hangAfterChunks: 12 } : {}) },
          },
    );
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await slack?.close();
    await model?.close();
  });

  it(
    'the tool step arrives once, as one card that ends complete, in one steps message the new worker closes',
    { timeout: 90_000 },
    async () => {
      const taskQueue = temporal.taskQueue('steps-crash');
      const env = {
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: taskQueue,
        GOOGLE_API_KEY: 'test-key',
        GEMINI_BASE_URL: model.url,
        // Both workers share the transcript store, and the records beside it.
        TRANSCRIPT_DIR: mkdtempSync(join(tmpdir(), 'steps-crash-')),
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_API_URL: slack.url,
        APPROVAL_TOKEN_SECRET: 'steps-crash-secret',
      };
      const first = await startWorkerProcess(env);
      workers.push(first);

      const threadTs = slack.addUserMessage({ channel: DM, user: 'U0ANA', text: 'what time is it in Tokyo?' });
      const conversationId = `slack:${TEAM}:${DM}:${threadTs}`;
      await sendMessage(temporal.client, {
        conversationId,
        taskQueue,
        start: { conversationId, agent: 'assistant', channel: { kind: 'slack', teamId: TEAM, channelId: DM, threadTs } },
        message: {
          id: `slack-message:${TEAM}:${DM}:${threadTs}`,
          text: 'what time is it in Tokyo?',
          user: { id: 'U0ANA' },
          receivedAt: new Date().toISOString(),
        },
      });

      // The tool step's card is in Slack, and part of the answer streams, when the worker dies.
      const answer = () => slack.messages(DM, threadTs).find((message) => message.botId && !message.tasks && message.stream);
      await expect.poll(() => answer()?.text.length ?? 0, { timeout: 30_000 }).toBeGreaterThan(200);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      first.kill('SIGKILL');
      workers.push(await startWorkerProcess(env));

      const handle = temporal.client.workflow.getHandle(conversationId);
      await expect
        .poll(async () => (await handle.query<TurnSummary[]>(TURNS_QUERY))[0]?.status, { timeout: 60_000, interval: 500 })
        .toBe('answered');
      await expect.poll(() => slack.agentSession(DM, threadTs)?.statuses.at(-1)?.status, { timeout: 10_000 }).toBe('active');

      const steps = slack.messages(DM, threadTs).filter((message) => message.tasks);
      expect(steps).toHaveLength(1);
      await expect
        .poll(() => steps[0]!.tasks!.map((card) => [card.id, card.title, card.status]))
        .toEqual([['step-1-get_current_time', 'get_current_time', 'complete']]);
      // The worker that took over found the steps message in the records and closed its stream.
      expect(steps[0]!.stream?.stopped).toBe(true);
      expect(answer()?.text).toBe(ANSWER);
    },
  );
});
