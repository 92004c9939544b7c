import { createHash } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** One redrive moves at most this many messages, so a queue refilled as fast as it drains cannot keep it running. */
const MAX_REDRIVEN_MESSAGES = 10_000;

export interface RedriveOptions {
  sqs: SQSClient;
  /** The dead-letter queue. */
  from: string;
  /** The queue the messages go back to. */
  to: string;
}

/**
 * Moves messages from the DLQ back to the FIFO queue by receiving and re-sending them
 * (SQS's StartMessageMoveTask does the same where it is available; local emulators often
 * lack it). The original group is kept; the deduplication id is new, since SQS would drop a
 * re-send with the original id within its five-minute window. Temporal dedupes by the event
 * id, so a message that did land once is not answered twice. Each message is deleted from
 * the DLQ only after the re-send succeeded: a crash can duplicate, never lose.
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<number> {
  const limit = MAX_REDRIVEN_MESSAGES;
  let moved = 0;
  while (moved < limit) {
    const received = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.from,
        MaxNumberOfMessages: Math.min(10, limit - moved),
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      const group = message.Attributes?.MessageGroupId;
      const originalId = message.Attributes?.MessageDeduplicationId ?? message.MessageId ?? '';
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.to,
          MessageBody: message.Body ?? '',
          ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
          ...(group ? { MessageGroupId: group, MessageDeduplicationId: redriveDeduplicationId(originalId, message.MessageId ?? '') } : {}),
        }),
      );
    }
    await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.from,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle as string })),
      }),
    );
    moved += messages.length;
  }
  return moved;
}

function redriveDeduplicationId(originalId: string, dlqMessageId: string): string {
  return `redrive:${createHash('sha256').update(`${originalId}\u0000${dlqMessageId}`).digest('hex').slice(0, 64)}`;
}
