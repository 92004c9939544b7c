import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { jsonLog, type Log } from '../functions/shared/log.ts';
import type { SqsBatchEvent, SqsBatchResponse } from '../functions/shared/sqs-batch.ts';

export interface PollQueueOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** The same handler the Lambda runs. */
  handler: (batch: SqsBatchEvent) => Promise<SqsBatchResponse>;
  /** Stops the loop after the batch in hand. */
  signal: AbortSignal;
  /** Long-poll wait. @default 20 s */
  waitTimeSeconds?: number;
  /** @default the queue's own */
  visibilityTimeoutSeconds?: number;
  /** @default jsonLog */
  log?: Log;
}

/** SQS's largest batch. */
const MAX_MESSAGES = 10;
/** Pause after a failed ReceiveMessage (SQS unreachable). */
const RECEIVE_ERROR_PAUSE_MS = 1000;

/**
 * What Lambda's SQS event source does, as a loop for `npm run dispatch`: long-poll, hand
 * the batch to the handler, delete what it handled, and leave its failures alone so they
 * come back after the visibility timeout (and, past the redrive policy's maxReceiveCount,
 * land in the DLQ).
 */
export async function pollQueue(options: PollQueueOptions): Promise<void> {
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
    const batch: SqsBatchEvent = {
      Records: messages.map((message) => ({
        messageId: message.MessageId as string,
        body: message.Body ?? '',
        attributes: {
          ...(message.Attributes?.MessageGroupId ? { MessageGroupId: message.Attributes.MessageGroupId } : {}),
          ...(message.Attributes?.ApproximateReceiveCount ? { ApproximateReceiveCount: message.Attributes.ApproximateReceiveCount } : {}),
          ...(message.Attributes?.SentTimestamp ? { SentTimestamp: message.Attributes.SentTimestamp } : {}),
        },
        // Lambda's spelling of message attributes, so the handler reads the same shape here and there.
        messageAttributes: Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            { dataType: value.DataType ?? 'String', ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}) },
          ]),
        ),
      })),
    };
    let batchItemFailures: SqsBatchResponse['batchItemFailures'];
    try {
      ({ batchItemFailures } = await options.handler(batch));
    } catch (error) {
      // As in Lambda: a handler that throws fails the whole batch, which comes back after the visibility timeout.
      log({ msg: 'batch failed', error: (error as Error).name, detail: (error as Error).message });
      continue;
    }
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    const handled = messages.filter((message) => !failed.has(message.MessageId as string));
    if (handled.length === 0) continue;
    const deleted = await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: handled.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle as string })),
      }),
    );
    for (const failure of deleted.Failed ?? []) log({ msg: 'delete failed; the message will be handled again', detail: failure.Message });
  }
}
