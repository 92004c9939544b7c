import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqsBatchEvent, SqsBatchResponse } from '../../functions/shared/sqs-batch.ts';
import { silentLog } from '../../functions/shared/log.ts';
import { pollQueue } from '../../local/poll-queue.ts';
import { createFifoQueue, queueDepth, sqsClient } from '../../testkit/ingress.ts';
import { startMoto, type MotoServer } from '../../testkit/moto.ts';

// `npm run dispatch`'s loop against moto's SQS FIFO queue, with a handler that records what it
// sees and holds the records a test names until it lets them go.

interface Held {
  /** Bodies in the order the handler started them. */
  started: string[];
  /** Bodies in the order the handler finished them. */
  finished: string[];
  /** Lets a held body finish. */
  release(body: string): void;
  handler(batch: SqsBatchEvent): Promise<SqsBatchResponse>;
}

function holdingHandler(hold: string[]): Held {
  const started: string[] = [];
  const finished: string[] = [];
  const releases = new Map<string, () => void>();
  const gates = new Map(hold.map((body) => [body, new Promise<void>((resolve) => releases.set(body, resolve))]));
  return {
    started,
    finished,
    release: (body) => releases.get(body)?.(),
    // Like the dispatcher's handler: groups side by side, a group's records in order.
    async handler(batch) {
      const groups = new Map<string, string[]>();
      for (const record of batch.Records) {
        const group = record.attributes?.MessageGroupId ?? record.messageId;
        groups.set(group, [...(groups.get(group) ?? []), record.body]);
      }
      await Promise.all(
        [...groups.values()].map(async (bodies) => {
          for (const body of bodies) {
            started.push(body);
            await gates.get(body);
            finished.push(body);
          }
        }),
      );
      return { batchItemFailures: [] };
    },
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('pollQueue (npm run dispatch) on an SQS FIFO queue in moto', () => {
  let moto: MotoServer;
  let sqs: SQSClient;

  beforeAll(async () => {
    moto = await startMoto();
    sqs = sqsClient(moto.endpoint);
  }, 60_000);
  afterAll(async () => {
    sqs?.destroy();
    await moto?.stop();
  });

  async function send(queueUrl: string, group: string, body: string): Promise<void> {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: body }));
  }

  function poll(queueUrl: string, handler: Held['handler'], concurrentBatches?: number) {
    const stop = new AbortController();
    const polling = pollQueue({
      sqs,
      queueUrl,
      handler,
      signal: stop.signal,
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: 30,
      ...(concurrentBatches !== undefined ? { concurrentBatches } : {}),
      log: silentLog,
    });
    return { stop: () => (stop.abort(), polling), polling };
  }

  it('a slow delivery holds back only its own batch: another conversation queued after it is handled meanwhile', async () => {
    const queueUrl = await createFifoQueue(sqs, 'poll-slow');
    const held = holdingHandler(['slow']);
    const poller = poll(queueUrl, (batch) => held.handler(batch));
    try {
      await send(queueUrl, 'thread-a', 'slow');
      await until(() => held.started.includes('slow'), 'the slow record to be in hand');
      await send(queueUrl, 'thread-b', 'quick');
      // With one receive → handle → delete loop, "quick" waits until "slow" is done.
      await until(() => held.finished.includes('quick'), 'the other conversation to be handled while the slow one is in hand', 5_000);
      expect(held.finished).toEqual(['quick']);
    } finally {
      held.release('slow');
      await poller.stop();
    }
    expect(held.finished).toEqual(['quick', 'slow']);
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  }, 30_000);

  it("keeps FIFO order per message group: SQS hands out none of a group's messages while one is in flight", async () => {
    const queueUrl = await createFifoQueue(sqs, 'poll-order');
    const held = holdingHandler(['a1']);
    const poller = poll(queueUrl, (batch) => held.handler(batch), 4);
    try {
      await send(queueUrl, 'thread-a', 'a1');
      await until(() => held.started.includes('a1'), 'a1 to be in hand');
      await send(queueUrl, 'thread-a', 'a2');
      await send(queueUrl, 'thread-b', 'b1');
      await until(() => held.finished.includes('b1'), 'b1 to be handled');
      // Several idle loops receive meanwhile; none is handed a2 while a1 is in flight.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(held.started).toEqual(['a1', 'b1']);
      held.release('a1');
      await until(() => held.finished.includes('a2'), 'a2 after a1');
    } finally {
      held.release('a1');
      await poller.stop();
    }
    expect(held.finished).toEqual(['b1', 'a1', 'a2']);
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  }, 30_000);

  it('stops on abort: every loop ends its long poll, the batch in hand is finished and deleted, nothing more is received', async () => {
    const queueUrl = await createFifoQueue(sqs, 'poll-stop');
    const held = holdingHandler(['in-hand']);
    const stop = new AbortController();
    const polling = pollQueue({
      sqs,
      queueUrl,
      handler: (batch) => held.handler(batch),
      signal: stop.signal,
      waitTimeSeconds: 20,
      visibilityTimeoutSeconds: 30,
      concurrentBatches: 3,
      log: silentLog,
    });
    let stopped = false;
    void polling.then(() => (stopped = true));
    await send(queueUrl, 'thread-a', 'in-hand');
    await until(() => held.started.includes('in-hand'), 'the record to be in hand');
    stop.abort();
    await send(queueUrl, 'thread-b', 'after-stop');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The idle loops' 20 s long polls ended at once; the loop with a batch waits for it.
    expect(stopped).toBe(false);
    const abortedAt = Date.now();
    held.release('in-hand');
    await polling;
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
    expect(held.started).toEqual(['in-hand']);
    // The batch in hand was deleted; the message sent after the stop waits in the queue.
    expect(await queueDepth(sqs, queueUrl)).toBe(1);
  }, 30_000);
});
