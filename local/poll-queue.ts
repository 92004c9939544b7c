import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { jsonLog, type Log } from '../functions/shared/log.ts';
import type { SqsBatchEvent, SqsBatchResponse } from '../functions/shared/sqs-batch.ts';

export interface PollQueueOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** The same handler the Lambda runs. */
  handler: (batch: SqsBatchEvent) => Promise<SqsBatchResponse>;
  /** Stops every loop after the batch it has in hand. */
  signal: AbortSignal;
  /** Long-poll wait. @default 20 s */
  waitTimeSeconds?: number;
  /** @default the queue's own */
  visibilityTimeoutSeconds?: number;
  /** Batches in flight at once, each with its own receive → handle → delete loop. @default 5, as Lambda's event source starts */
  concurrentBatches?: number;
  /** @default jsonLog */
  log?: Log;
}

/** SQS's largest batch. */
const MAX_MESSAGES = 10;
/** Pause after a failed ReceiveMessage (SQS unreachable). */
const RECEIVE_ERROR_PAUSE_MS = 1000;
/** Lambda's SQS event source starts with five batches at a time. */
export const DEFAULT_CONCURRENT_BATCHES = 5;

/**
 * What Lambda's SQS event source does, as loops for `npm run dispatch`: long-poll, hand the
 * batch to the handler, delete what it handled, and leave its failures alone so they come
 * back after the visibility timeout (and, past the redrive policy's maxReceiveCount, land in
 * the DLQ). Like the event source, several batches are in flight at once, so one slow
 * delivery holds back only its own batch, not every message behind it. FIFO order still holds
 * per message group: SQS hands out none of a group's messages while one of the group is in
 * flight, and the handler runs a batch's records of one group in order.
 */
export async function pollQueue(options: PollQueueOptions): Promise<void> {
  const loops = Math.max(1, options.concurrentBatches ?? DEFAULT_CONCURRENT_BATCHES);
  await Promise.all(Array.from({ length: loops }, () => pollLoop(options)));
}

async function pollLoop(options: PollQueueOptions): Promise<void> {
  const log = options.log ?? jsonLog;
  while (!options.signal.aborted) {
    let received;
    try {
      received = await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: MAX_MESSAGES,
          WaitTimeSeconds: options.waitTimeSeconds ?? 20,
          ...(options.visibilityTimeoutSeconds !== undefined ? { VisibilityTimeout: options.visibilityTimeoutSeconds } : {}),
          MessageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount', 'SentTimestamp'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: options.signal },
      );
    } catch (error) {
      if (options.signal.aborted) return;
      log({ msg: 'receive failed', error: (error as Error).name, detail: (error as Error).message });
      await new Promise((resolve) => setTimeout(resolve, RECEIVE_ERROR_PAUSE_MS));
      continue;
    }
    const messages = (received.Messages ?? []).filter((message) => message.MessageId && message.ReceiptHandle);
    if (messages.length === 0) continue;
    let batchItemFailures: SqsBatchResponse['batchItemFailures'];
    try {
      ({ batchItemFailures } = await options.handler(lambdaBatchOf(messages)));
    } catch (error) {
      // As in Lambda: a handler that throws fails the whole batch, which comes back after the visibility timeout.
      log({ msg: 'batch failed', error: (error as Error).name, detail: (error as Error).message });
      continue;
    }
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    const handled = messages.filter((message) => !failed.has(message.MessageId as string));
    if (handled.length === 0) continue;
    try {
      const deleted = await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: handled.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle as string })),
        }),
      );
      for (const failure of deleted.Failed ?? []) log({ msg: 'delete failed; the message will be handled again', detail: failure.Message });
    } catch (error) {
      // Handled but not deleted: it comes back after the visibility timeout, and its update id makes the second delivery land once.
      log({ msg: 'delete failed; the batch will be handled again', error: (error as Error).name, detail: (error as Error).message });
    }
  }
}

/** Lambda's shape of a batch, so the handler reads the same records here and there. */
function lambdaBatchOf(messages: Message[]): SqsBatchEvent {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId as string,
      body: message.Body ?? '',
      attributes: {
        ...(message.Attributes?.MessageGroupId ? { MessageGroupId: message.Attributes.MessageGroupId } : {}),
        ...(message.Attributes?.ApproximateReceiveCount ? { ApproximateReceiveCount: message.Attributes.ApproximateReceiveCount } : {}),
        ...(message.Attributes?.SentTimestamp ? { SentTimestamp: message.Attributes.SentTimestamp } : {}),
      },
      // Lambda's spelling of message attributes.
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          { dataType: value.DataType ?? 'String', ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}) },
        ]),
      ),
    })),
  };
}
