import * as z from 'zod';

/** The ingress queue both edges write to: deduplication needs a FIFO queue. */
export const fifoQueueUrl = z
  .url({ message: 'INGRESS_QUEUE_URL must be the URL of the SQS FIFO queue (…/name.fifo)' })
  .refine((url) => url.endsWith('.fifo'), {
    message: 'INGRESS_QUEUE_URL must name a FIFO queue (ending in .fifo): deduplication depends on it',
  });
