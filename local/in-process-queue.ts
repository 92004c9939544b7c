import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sqsMessageOf, type EventQueue } from '../functions/shared/event-queue.ts';
import type { Log } from '../functions/shared/log.ts';
import type { SqsBatchEvent, SqsBatchResponse } from '../functions/shared/sqs-batch.ts';

/**
 * The queue `npm start` puts where SQS FIFO stands in AWS: the same `EventQueue` the edges
 * write to, and batches in the shape of Lambda's SQS event for the dispatcher's handler.
 * It keeps SQS's promises that the rest of the system leans on: one message group at a time
 * (order within a conversation), deduplication by id for five minutes, a failed record seen
 * again after a pause, a dead letter after too many receives. Accepted messages are written
 * to a file before `send` resolves, so a restart, or a kill, loses none.
 */

export interface InProcessQueueOptions {
  /** JSON file holding pending messages, recent deduplication ids and dead letters. */
  file: string;
  /** How long a deduplication id is remembered. @default 5 minutes, as SQS */
  dedupWindowMs?: number;
  /** How long a failed record waits before it is handed out again. @default 2000 ms */
  retryDelayMs?: number;
  /** Receives after which a record becomes a dead letter. @default 10 */
  maxReceives?: number;
  /** Records per batch. @default 10, as SQS */
  batchSize?: number;
  /** Batches handled at once, as Lambda's event source keeps several in flight: a slow delivery holds back only its own. @default 5 */
  concurrentBatches?: number;
  log?: Log;
  /** Clock, in milliseconds. @default Date.now */
  now?: () => number;
}

interface StoredMessage {
  messageId: string;
  groupId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  /** Not handed out before this time (ms): a failed record's pause. */
  visibleAt: number;
}

interface QueueState {
  messages: StoredMessage[];
  /** Deduplication id → when it was accepted (ms). */
  dedup: Record<string, number>;
  deadLetters: (StoredMessage & { deadAt: number })[];
}

export interface InProcessQueue extends EventQueue {
  /** Messages accepted and not yet handled (in flight included). */
  pending(): number;
  deadLetters(): number;
  /** Feeds the handler until `signal` aborts; resolves when the batches in hand are done. */
  run(handler: (batch: SqsBatchEvent) => Promise<SqsBatchResponse>, signal: AbortSignal): Promise<void>;
}

export function createInProcessQueue(options: InProcessQueueOptions): InProcessQueue {
  const now = options.now ?? Date.now;
  const dedupWindowMs = options.dedupWindowMs ?? 5 * 60_000;
  const state = load(options.file);
  /** Groups with a record in flight: SQS FIFO hands out nothing more of them until it is done. */
  const busyGroups = new Set<string>();
  /** Loops waiting for a record: a new message, or a group that is free again, wakes them. */
  const waiting = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of [...waiting]) wake();
  };

  function save(): void {
    mkdirSync(dirname(options.file), { recursive: true });
    const temporary = `${options.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(state));
    renameSync(temporary, options.file);
  }

  function forgetOldDedupIds(): void {
    const horizon = now() - dedupWindowMs;
    for (const [id, at] of Object.entries(state.dedup)) if (at < horizon) delete state.dedup[id];
  }

  /** The next batch: per group, its oldest visible records, never a group already in flight. */
  function takeBatch(): StoredMessage[] {
    const batch: StoredMessage[] = [];
    const blockedGroups = new Set(busyGroups);
    for (const message of state.messages) {
      if (batch.length >= (options.batchSize ?? 10)) break;
      if (blockedGroups.has(message.groupId)) continue;
      if (message.visibleAt > now()) {
        // A later message of this group must not overtake the one that waits.
        blockedGroups.add(message.groupId);
        continue;
      }
      batch.push(message);
    }
    return batch;
  }

  /** One loop of `run`: take a batch, hand it to the handler, settle its records. */
  async function feed(handler: (batch: SqsBatchEvent) => Promise<SqsBatchResponse>, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const batch = takeBatch();
      if (batch.length === 0) {
        const nextVisible = Math.min(
          ...state.messages.filter((message) => !busyGroups.has(message.groupId)).map((message) => message.visibleAt),
        );
        const waitMs = Number.isFinite(nextVisible) ? Math.max(10, nextVisible - now()) : 60_000;
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiting.delete(wake);
            signal.removeEventListener('abort', wake);
            resolve();
          };
          const timer = setTimeout(wake, waitMs);
          waiting.add(wake);
          signal.addEventListener('abort', wake, { once: true });
        });
        continue;
      }
      for (const message of batch) {
        message.receiveCount += 1;
        busyGroups.add(message.groupId);
      }
      save();
      let failed: Set<string>;
      try {
        const response = await handler({
          Records: batch.map((message) => ({
            messageId: message.messageId,
            body: message.body,
            attributes: { MessageGroupId: message.groupId, ApproximateReceiveCount: String(message.receiveCount) },
          })),
        });
        failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      } catch (error) {
        // As in Lambda: a handler that throws fails the whole batch.
        options.log?.({ msg: 'batch failed', error: (error as Error).name, detail: (error as Error).message });
        failed = new Set(batch.map((message) => message.messageId));
      }
      for (const message of batch) {
        busyGroups.delete(message.groupId);
        if (!failed.has(message.messageId)) {
          state.messages = state.messages.filter((candidate) => candidate !== message);
        } else if (message.receiveCount >= (options.maxReceives ?? 10)) {
          state.messages = state.messages.filter((candidate) => candidate !== message);
          state.deadLetters.push({ ...message, deadAt: now() });
          options.log?.({ msg: 'dead letter', sqsMessageId: message.messageId, receives: message.receiveCount });
        } else {
          message.visibleAt = now() + (options.retryDelayMs ?? 2000);
        }
      }
      save();
      // Its groups are free again: a loop that found only them busy may take their next records.
      wakeAll();
    }
  }

  return {
    async send(event) {
      const message = sqsMessageOf(event);
      forgetOldDedupIds();
      if (state.dedup[message.MessageDeduplicationId] !== undefined) return;
      state.dedup[message.MessageDeduplicationId] = now();
      state.messages.push({
        messageId: crypto.randomUUID(),
        groupId: message.MessageGroupId,
        body: message.MessageBody,
        sentAt: now(),
        receiveCount: 0,
        visibleAt: 0,
      });
      save();
      wakeAll();
    },
    pending: () => state.messages.length,
    deadLetters: () => state.deadLetters.length,
    async run(handler, signal) {
      // Each loop takes a batch of groups no other loop holds, so a group's records still go one batch at a time, in order.
      await Promise.all(Array.from({ length: Math.max(1, options.concurrentBatches ?? 5) }, () => feed(handler, signal)));
    },
  };
}

function load(file: string): QueueState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { messages: [], dedup: {}, deadLetters: [] };
  }
  const parsed = JSON.parse(text) as Partial<QueueState>;
  return {
    // A record in flight when the process died is handed out again, as SQS does after its visibility timeout.
    messages: (parsed.messages ?? []).map((message) => ({ ...message, visibleAt: 0 })),
    dedup: parsed.dedup ?? {},
    deadLetters: parsed.deadLetters ?? [],
  };
}
