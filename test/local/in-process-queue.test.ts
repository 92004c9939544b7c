import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { InboundEvent } from '../../events/inbound-event.ts';
import type { SqsBatchEvent, SqsBatchResponse } from '../../functions/shared/sqs-batch.ts';
import { createInProcessQueue } from '../../local/in-process-queue.ts';

const directory = mkdtempSync(join(tmpdir(), 'queue-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
const nextFile = () => join(directory, `queue-${(files += 1)}.json`);

function event(id: string, thread: string, text = id): InboundEvent {
  return {
    version: 1,
    id,
    source: 'slack',
    kind: 'message',
    conversationId: `slack:T0:C0:${thread}`,
    receivedAt: new Date().toISOString(),
    user: { id: 'U0ANA' },
    text,
    slack: { teamId: 'T0', channelId: 'C0', threadTs: thread, ts: thread },
  };
}

/** Runs the queue with `handle` until `until` holds, and returns every batch's texts. */
async function drain(
  queue: ReturnType<typeof createInProcessQueue>,
  handle: (batch: SqsBatchEvent) => SqsBatchResponse,
  until: () => boolean,
): Promise<string[][]> {
  const batches: string[][] = [];
  const stop = new AbortController();
  const running = queue.run(async (batch) => {
    batches.push(batch.Records.map((record) => (JSON.parse(record.body) as InboundEvent).text));
    const response = handle(batch);
    if (until()) stop.abort();
    return response;
  }, stop.signal);
  await running;
  return batches;
}

describe('the in-process queue keeps the promises of SQS FIFO', () => {
  it('stores a message delivered twice within the window once, and again after it', async () => {
    let now = 1_000_000;
    const queue = createInProcessQueue({ file: nextFile(), now: () => now });
    await queue.send(event('e1', '1.1'));
    await queue.send(event('e1', '1.1'));
    expect(queue.pending()).toBe(1);
    now += 5 * 60_000 + 1;
    await queue.send(event('e1', '1.1'));
    expect(queue.pending()).toBe(2);
  });

  it('hands out one conversation in order and holds its later messages while one fails', async () => {
    const queue = createInProcessQueue({ file: nextFile(), retryDelayMs: 20 });
    await queue.send(event('a1', 'A', 'a1'));
    await queue.send(event('b1', 'B', 'b1'));
    await queue.send(event('a2', 'A', 'a2'));
    let failuresLeft = 1;
    const handled: string[] = [];
    const batches = await drain(
      queue,
      (batch) => {
        const failures: { itemIdentifier: string }[] = [];
        for (const record of batch.Records) {
          const text = (JSON.parse(record.body) as InboundEvent).text;
          if (text === 'a1' && failuresLeft-- > 0) {
            // As the dispatcher does: after a failure, the rest of the group fails untried.
            failures.push(
              ...batch.Records.filter((other) => other.attributes?.MessageGroupId === record.attributes?.MessageGroupId).map((other) => ({
                itemIdentifier: other.messageId,
              })),
            );
            break;
          }
        }
        for (const record of batch.Records)
          if (!failures.some((failure) => failure.itemIdentifier === record.messageId))
            handled.push((JSON.parse(record.body) as InboundEvent).text);
        return { batchItemFailures: failures };
      },
      () => handled.length === 3,
    );
    expect(batches[0]).toEqual(['a1', 'b1', 'a2']);
    expect(handled.filter((text) => text.startsWith('a'))).toEqual(['a1', 'a2']);
    expect(queue.pending()).toBe(0);
  });

  it('keeps accepted messages across a restart, and hands out again what was in flight', async () => {
    const file = nextFile();
    const first = createInProcessQueue({ file });
    await first.send(event('k1', 'K'));
    const stop = new AbortController();
    // The process "dies" while the handler holds the batch: it never answers.
    void first.run(() => new Promise(() => stop.abort()), stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const second = createInProcessQueue({ file });
    expect(second.pending()).toBe(1);
    await second.send(event('k1', 'K'));
    expect(second.pending()).toBe(1);
    const batches = await drain(
      second,
      () => ({ batchItemFailures: [] }),
      () => true,
    );
    expect(batches).toEqual([['k1']]);
    expect(createInProcessQueue({ file }).pending()).toBe(0);
  });

  it('handles several batches at once: a slow conversation holds back no other, and its own next message waits for it', async () => {
    const queue = createInProcessQueue({ file: nextFile() });
    const started: string[] = [];
    const finished: string[] = [];
    let releaseSlow = () => {};
    const slow = new Promise<void>((resolve) => (releaseSlow = resolve));
    const stop = new AbortController();
    const running = queue.run(async (batch) => {
      for (const record of batch.Records) {
        const text = (JSON.parse(record.body) as InboundEvent).text;
        started.push(text);
        if (text === 'slow') await slow;
        finished.push(text);
      }
      return { batchItemFailures: [] };
    }, stop.signal);
    await queue.send(event('s1', 'S', 'slow'));
    await vi.waitFor(() => expect(started).toEqual(['slow']));
    await queue.send(event('s2', 'S', 'after slow'));
    await queue.send(event('q1', 'Q', 'quick'));
    // With one batch at a time, "quick" would wait for "slow".
    await vi.waitFor(() => expect(finished).toEqual(['quick']), { timeout: 2_000 });
    expect(started).toEqual(['slow', 'quick']);
    releaseSlow();
    await vi.waitFor(() => expect(finished).toEqual(['quick', 'slow', 'after slow']));
    stop.abort();
    await running;
    expect(queue.pending()).toBe(0);
  });

  it('makes a dead letter of a record that failed too often', async () => {
    const queue = createInProcessQueue({ file: nextFile(), retryDelayMs: 1, maxReceives: 3 });
    await queue.send(event('d1', 'D'));
    let receives = 0;
    await drain(
      queue,
      (batch) => {
        receives += 1;
        return { batchItemFailures: batch.Records.map((record) => ({ itemIdentifier: record.messageId })) };
      },
      () => receives === 3,
    );
    expect(queue.pending()).toBe(0);
    expect(queue.deadLetters()).toBe(1);
  });
});
