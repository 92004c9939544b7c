import { createHash } from 'node:crypto';
import { parseInboundEvent, type InboundEvent } from '../../core/inbound-event.ts';

/** Where normalised events go. The edge answers 200 only after `send` resolved. */
export interface EventQueue {
  send(event: InboundEvent): Promise<void>;
}

/**
 * The SendMessage request for an event on the FIFO queue: one message group per
 * conversation (order within a conversation, parallelism across them) and the source event
 * id as deduplication id, so a Slack retry or a mention delivered twice within five minutes
 * is stored once.
 */
export function sqsMessageOf(event: InboundEvent) {
  const valid = parseInboundEvent(event);
  return {
    MessageBody: JSON.stringify(valid),
    MessageGroupId: sqsFifoId(valid.conversationId),
    MessageDeduplicationId: sqsFifoId(valid.id),
    MessageAttributes: {
      source: { DataType: 'String', StringValue: valid.source },
      kind: { DataType: 'String', StringValue: valid.kind },
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
