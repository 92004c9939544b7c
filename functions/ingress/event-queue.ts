import { createHash } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { parseInboundEvent, type InboundEvent } from '../../core/inbound-event.ts';

/** Where normalised events go. The edge answers 200 only after `send` resolved. */
export interface EventQueue {
  send(event: InboundEvent): Promise<void>;
}

export interface SqsEventQueueOptions {
  client: SQSClient;
  /** URL of the FIFO queue (`….fifo`). */
  queueUrl: string;
  /** Give up on SQS after this long, so the caller can answer before Slack's 3 s. @default 2500 */
  timeoutMs?: number;
}

/**
 * Sends each event to an SQS FIFO queue: one message group per conversation (order within a
 * conversation, parallelism across them) and the source event id as deduplication id, so a
 * Slack retry or a mention delivered twice within five minutes is stored once.
 */
export function createSqsEventQueue(options: SqsEventQueueOptions): EventQueue {
  const timeoutMs = options.timeoutMs ?? 2500;
  return {
    async send(event) {
      const valid = parseInboundEvent(event);
      await options.client.send(
        new SendMessageCommand({
          QueueUrl: options.queueUrl,
          MessageBody: JSON.stringify(valid),
          MessageGroupId: sqsFifoId(valid.conversationId),
          MessageDeduplicationId: sqsFifoId(valid.id),
          MessageAttributes: {
            source: { DataType: 'String', StringValue: valid.source },
            kind: { DataType: 'String', StringValue: valid.kind },
          },
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
    },
  };
}

/** SQS group and deduplication ids: at most 128 characters of printable ASCII without spaces. */
const SQS_FIFO_ID = /^[!-~]{1,128}$/;

/**
 * The id itself when SQS accepts it, else a SHA-256 of it: stable, so the same source event
 * always maps to the same deduplication id, and the same conversation to the same group.
 */
export function sqsFifoId(value: string): string {
  if (SQS_FIFO_ID.test(value)) return value;
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex')}`;
}
