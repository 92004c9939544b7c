import { createHash } from 'node:crypto';
import { parseInboundEvent, type InboundEvent } from '../../events/inbound-event.ts';
import type { EdgeTrace } from '../../telemetry/traceparent.ts';

/** Where normalised events go. The edge answers 200 only after `send` resolved. */
export interface EventQueue {
  /** `trace`: the edge's W3C trace context, carried as message attributes to the dispatcher. */
  send(event: InboundEvent, trace?: EdgeTrace): Promise<void>;
}

/**
 * The SendMessage request for an event on the FIFO queue: one message group per
 * conversation (order within a conversation, parallelism across them) and the source event
 * id as deduplication id, so a Slack retry or a mention delivered twice within five minutes
 * is stored once.
 */
export function sqsMessageOf(event: InboundEvent, trace?: EdgeTrace) {
  const valid = parseInboundEvent(event);
  return {
    MessageBody: JSON.stringify(valid),
    MessageGroupId: sqsFifoId(valid.conversationId),
    MessageDeduplicationId: sqsFifoId(valid.id),
    MessageAttributes: {
      source: { DataType: 'String', StringValue: valid.source },
      kind: { DataType: 'String', StringValue: valid.kind },
      ...(trace
        ? {
            traceparent: { DataType: 'String', StringValue: trace.traceparent },
            edge_started_at: { DataType: 'Number', StringValue: String(trace.startedAt) },
          }
        : {}),
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
