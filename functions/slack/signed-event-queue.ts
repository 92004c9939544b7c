import { sqsMessageOf, type EventQueue } from '../shared/event-queue.ts';
import { createSignedSqsCall, type SignedSqsOptions } from './sqs-signed.ts';

export interface SignedEventQueueOptions extends SignedSqsOptions {
  /** URL of the FIFO queue (`….fifo`). */
  queueUrl: string;
  /** Give up on SQS after this long, so the caller can answer before Slack's 3 s. @default 2500 */
  timeoutMs?: number;
}

/** The edge's queue: SendMessage signed over `fetch`, without the AWS SDK (see sqs-signed.ts). */
export function createSignedEventQueue(options: SignedEventQueueOptions): EventQueue {
  const call = createSignedSqsCall(options);
  return {
    async send(event, trace) {
      await call('SendMessage', options.queueUrl, sqsMessageOf(event, trace), AbortSignal.timeout(options.timeoutMs ?? 2500));
    },
  };
}
