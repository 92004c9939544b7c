import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptedDataConverter } from '../../temporal-client/payload-encryption.ts';
import { redriveDeadLetters } from '../../local/redrive-dead-letters.ts';
import { queueDepth, motoEventQueue, sqsClient } from '../../testkit/ingress.ts';
import { MOTO_CLIENT_CONFIG, freePort, startMoto, type MotoServer } from '../../testkit/moto.ts';
import { TEST_PAYLOAD_KEYS, TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { APPROVAL_SECRET, emailMessageEvent, slackMessageEvent, startConversationWorker, waitForTurn } from './support.ts';

const DISPATCH_ENTRY = fileURLToPath(new URL('../../local/dispatch.ts', import.meta.url));
const MAX_RECEIVES = 3;

describe.skipIf(noTemporal)('npm run dispatch: poll loop, dead-letter queue and redrive (moto SQS)', () => {
  const temporal = useTemporal();
  let moto: MotoServer;
  let sqs: SQSClient;
  let taskQueue: string;
  const children: ChildProcess[] = [];
  let model: GeminiServer;

  beforeAll(async () => {
    moto = await startMoto();
    sqs = sqsClient(moto.endpoint);
    taskQueue = temporal.taskQueue('dispatch-dlq');
    // `npm run dispatch` seals what it sends with its keys, as the worker it feeds does.
    ({ model } = await startConversationWorker(temporal, taskQueue, { dataConverter: encryptedDataConverter(TEST_PAYLOAD_KEYS) }));
  }, 120_000);
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await model?.close();
    sqs?.destroy();
    await moto?.stop();
  });

  async function queues() {
    const suffix = crypto.randomUUID().slice(0, 8);
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `dispatch-dlq-${suffix}.fifo`, Attributes: { FifoQueue: 'true' } }));
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!
      .QueueArn!;
    const main = await sqs.send(
      new CreateQueueCommand({
        QueueName: `dispatch-${suffix}.fifo`,
        Attributes: {
          FifoQueue: 'true',
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVES }),
        },
      }),
    );
    return { queueUrl: main.QueueUrl!, dlqUrl: dlq.QueueUrl! };
  }

  /** `npm run dispatch`, as a separate process with its settings in the environment. */
  function startDispatch(
    queueUrl: string,
    address: string,
    settings: Record<string, string> = {},
  ): { child: ChildProcess; lines: Record<string, unknown>[]; stop(): Promise<void> } {
    const child = spawn(process.execPath, [DISPATCH_ENTRY], {
      env: {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL_SQS: moto.endpoint,
        AWS_REGION: MOTO_CLIENT_CONFIG.region,
        AWS_ACCESS_KEY_ID: MOTO_CLIENT_CONFIG.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CLIENT_CONFIG.credentials.secretAccessKey,
        DISPATCH_QUEUE_URL: queueUrl,
        DISPATCH_WAIT_SECONDS: '1',
        TEMPORAL_ADDRESS: address,
        TEMPORAL_CONNECT_TIMEOUT_MS: '500',
        TEMPORAL_TASK_QUEUE: taskQueue,
        APPROVAL_TOKEN_SECRET: APPROVAL_SECRET,
        PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON,
        TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml',
        ...settings,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const lines: Record<string, unknown>[] = [];
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      for (const line of complete) if (line.trim()) lines.push(JSON.parse(line));
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.once('exit', (code) => {
      if (code !== 0 && code !== null) lines.push({ msg: 'exited', code, stderr });
    });
    return {
      child,
      lines,
      stop: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }

  async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it('keeps events while Temporal is down, moves them to the DLQ after maxReceiveCount, and delivers them once after a redrive', async () => {
    const { queueUrl, dlqUrl } = await queues();
    const ingressQueue = motoEventQueue(queueUrl);
    const first = slackMessageEvent({ text: 'first' });
    const second = slackMessageEvent({ threadTs: first.slack!.threadTs!, text: 'second' });
    const email = emailMessageEvent({ messageId: `dlq-${crypto.randomUUID()}@mail.example.com` });
    for (const event of [first, second, email]) await ingressQueue.send(event);

    const down = startDispatch(queueUrl, `127.0.0.1:${await freePort()}`);
    await waitFor(
      'all three events in the DLQ',
      async () => (await queueDepth(sqs, dlqUrl)) === 3 && (await queueDepth(sqs, queueUrl)) === 0,
    );
    await down.stop();
    const failures = down.lines.filter((line) => line.msg === 'delivery failed, will retry');
    // Each event was tried up to maxReceiveCount times, never acknowledged, never lost.
    expect(failures.length).toBeGreaterThanOrEqual(3);
    for (const event of [first, email]) {
      const attempts = failures.filter((line) => line.id === event.id).length;
      expect(attempts).toBeGreaterThanOrEqual(1);
      expect(attempts).toBeLessThanOrEqual(MAX_RECEIVES);
    }
    expect(down.lines.some((line) => line.msg === 'delivered')).toBe(false);

    expect(await redriveDeadLetters({ sqs, from: dlqUrl, to: queueUrl })).toBe(3);
    expect(await queueDepth(sqs, dlqUrl)).toBe(0);
    expect(await queueDepth(sqs, queueUrl)).toBe(3);

    // Several batches are in flight at once (as in Lambda), so a record must stay hidden longer
    // than its delivery takes, or another batch receives it again: the queue's 1 s is for the
    // retries above, not for deliveries that start conversations on a busy machine.
    const up = startDispatch(queueUrl, temporalAddress, { DISPATCH_VISIBILITY_TIMEOUT_SECONDS: '30' });
    await waitFor(
      'the queue to drain',
      async () => (await queueDepth(sqs, queueUrl)) === 0 && up.lines.filter((line) => line.msg === 'delivered').length === 3,
    );
    await up.stop();

    // Each once. Order is not kept across a DLQ: messages of one group reach it at different
    // times (in SQS as in moto), so the redrive may hand them back in another order.
    const slackTurns = await waitForTurn(temporal.client, first.conversationId, 1);
    const lastTurn = slackTurns.at(-1)!.turn;
    const delivered = (await waitForTurn(temporal.client, first.conversationId, lastTurn)).flatMap((turn) => turn.messageIds);
    expect(delivered.sort()).toEqual([first.id, second.id].sort());
    expect((await waitForTurn(temporal.client, email.conversationId, 1)).map((turn) => turn.messageIds)).toEqual([[email.id]]);
    expect(await queueDepth(sqs, dlqUrl)).toBe(0);
  }, 120_000);
});
