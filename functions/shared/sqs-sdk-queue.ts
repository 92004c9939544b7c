import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsMessageOf, type EventQueue } from './event-queue.ts';

export interface SqsEventQueueOptions {
  client: SQSClient;
  /** URL of the FIFO queue (`….fifo`). */
  queueUrl: string;
  /** Give up on SQS after this long. @default 2500 */
  timeoutMs?: number;
}

/** The same queue through `@aws-sdk/client-sqs`: for processes that load the SDK anyway. */
export function createSqsEventQueue(options: SqsEventQueueOptions): EventQueue {
  return {
    async send(event, trace) {
      await options.client.send(new SendMessageCommand({ QueueUrl: options.queueUrl, ...sqsMessageOf(event, trace) }), {
        abortSignal: AbortSignal.timeout(options.timeoutMs ?? 2500),
      });
    },
  };
}
