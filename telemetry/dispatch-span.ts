import * as otel from '@opentelemetry/api';
import type { Tracing } from './tracing.ts';
import type { SqsRecord } from '../functions/shared/sqs-batch.ts';
import { parseTraceparent } from './traceparent.ts';

/**
 * Continues the trace the Slack edge started. The edge has no OpenTelemetry SDK: it names a
 * trace id and its own span id in the `traceparent` message attribute, and its start time in
 * `edge_started_at`. Here, on the first delivery of the record, the edge's span is recorded
 * under that id (from its start to the time SQS took the message), and the dispatch span
 * becomes its child. A record without the attributes starts a trace of its own.
 */
export async function withDispatchSpan<T>(
  tracing: Tracing | undefined,
  record: SqsRecord,
  fn: (span: otel.Span | undefined) => Promise<T>,
): Promise<T> {
  if (!tracing) return fn(undefined);
  const edge = parseTraceparent(record.messageAttributes?.traceparent?.stringValue);
  let parent = otel.ROOT_CONTEXT;
  if (edge) {
    const startedAt = Number(record.messageAttributes?.edge_started_at?.stringValue);
    const sentAt = Number(record.attributes?.SentTimestamp);
    if ((record.attributes?.ApproximateReceiveCount ?? '1') === '1' && Number.isFinite(startedAt)) {
      tracing.recordSpan({
        name: 'slack edge',
        traceId: edge.traceId,
        spanId: edge.spanId,
        startMs: startedAt,
        endMs: Number.isFinite(sentAt) && sentAt >= startedAt ? sentAt : startedAt,
        attributes: { 'messaging.system': 'aws_sqs', 'messaging.operation': 'publish' },
      });
    }
    parent = otel.trace.setSpanContext(otel.ROOT_CONTEXT, {
      traceId: edge.traceId,
      spanId: edge.spanId,
      traceFlags: edge.sampled ? otel.TraceFlags.SAMPLED : otel.TraceFlags.NONE,
      isRemote: true,
    });
  }
  return tracing.tracer.startActiveSpan(
    'dispatch',
    { kind: otel.SpanKind.CONSUMER, attributes: { 'messaging.system': 'aws_sqs', 'messaging.message.id': record.messageId } },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: otel.SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** The trace id of the active span, for log lines (`traceId`); undefined when nothing is traced. */
export function activeTraceId(): string | undefined {
  const context = otel.trace.getActiveSpan()?.spanContext();
  return context && otel.isSpanContextValid(context) ? context.traceId : undefined;
}
