import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentRegistry } from '../../agents/index.ts';
import { AMBIENT_RUN_WORKFLOW, type AmbientRunInput, type AmbientRunResult } from '../../core/ambient.ts';
import { startGeminiServer, type GeminiServer } from '../../local/gemini-server.ts';
import { offlineModel } from '../../local/offline-model.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';
import { handbookCopy } from '../ambient/runs-support.ts';
import { startWorkerProcess } from '../../testkit/worker-process.ts';

const TOKEN = 'xoxb-ambient-crash';
const CHANNEL = 'C0CRASH';

describe.skipIf(noTemporal)('a worker killed during an ambient run', () => {
  const temporal = useTemporal();
  let slack: SlackApiServer;
  let model: GeminiServer;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [TOKEN] });
    model = await startGeminiServer({ respond: offlineModel });
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await slack?.close();
    await model?.close();
  });

  it('is killed after Slack stored the post but before it answered: the run completes on a new worker and the post is there once', async () => {
    const taskQueue = temporal.taskQueue('ambient-crash');
    const docs = handbookCopy();
    const env = {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      // The registry's own schedules stay out of this test's task queue (and out of the stand-ins' call counts).
      SCHEDULES_SYNC_AT_START: 'false',
      GOOGLE_API_KEY: 'test-key',
      GEMINI_BASE_URL: model.url,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_API_URL: slack.url,
      APPROVAL_TOKEN_SECRET: 'ambient-crash-approval-secret',
      DOCS_DIR: docs,
      TRANSCRIPT_DIR: mkdtempSync(join(tmpdir(), 'ambient-crash-')),
    };
    const first = await startWorkerProcess(env);
    workers.push(first);
    const firstExited = new Promise((resolve) => first.once('exit', resolve));

    // The post takes effect, but its answer comes late: the worker dies waiting for it.
    slack.delayAnswers('chat.postMessage', 5_000);
    const trigger = {
      ...createAgentRegistry({ docsDirectory: docs }).get('handbook-digest').triggers[0]!,
      deliver: { kind: 'slack' as const, channel: CHANNEL },
    };
    const handle = await temporal.client.workflow.start<(input: AmbientRunInput) => Promise<AmbientRunResult>>(AMBIENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `ambient:handbook-digest:daily-${crypto.randomUUID()}`,
      args: [{ agent: 'handbook-digest', trigger, origin: 'definition' }],
    });
    await expect.poll(() => slack.messages(CHANNEL).length, { timeout: 20_000, interval: 50 }).toBe(1);
    first.kill('SIGKILL');
    await firstExited;
    expect(first.signalCode).toBe('SIGKILL');
    workers.push(await startWorkerProcess(env));

    const result = await handle.result();
    expect(result.outcome).toBe('posted');
    const posts = slack.messages(CHANNEL);
    expect(posts).toHaveLength(1);
    expect(result.posted).toEqual({ kind: 'slack', channel: CHANNEL, ts: posts[0]!.ts });
    expect(posts[0]!.text).toContain('First digest');
    expect(slack.calls.filter((call) => call.method === 'chat.postMessage')).toHaveLength(1);
    // The first attempt claimed the post and died before recording Slack's ts: only the retry,
    // finding a claim with no record, read the channel, and found the post by its mark.
    expect(slack.calls.filter((call) => call.method === 'conversations.history')).toHaveLength(1);

    const history = await summariseHistory(handle);
    expect(history.completed['ambient:deliver']).toBe(1);
    expect(history.failedAttempts).toBeGreaterThanOrEqual(1);
  });
});
