import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context by hand, so the edge starts a trace without loading an OpenTelemetry SDK
 * (its bundle and cold start stay small). The edge sends `traceparent` and the time it took the
 * request as SQS message attributes; the dispatcher, which has an SDK, records the edge's span
 * under the span id named here and continues the trace (telemetry/dispatch-span.ts).
 */
export interface EdgeTrace {
  /** `00-{trace id}-{edge span id}-01`. */
  traceparent: string;
  /** When the edge received the request, in milliseconds since the epoch. */
  startedAt: number;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A new sampled trace whose first span is the edge's. */
export function newEdgeTrace(startedAt: number): EdgeTrace {
  return { traceparent: `00-${nonZeroHex(16)}-${nonZeroHex(8)}-01`, startedAt };
}

/** The ids of a `traceparent`, or undefined when it is malformed (then no trace is continued). */
export function parseTraceparent(value: string | undefined): { traceId: string; spanId: string; sampled: boolean } | undefined {
  const match = value ? TRACEPARENT.exec(value) : null;
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, sampled: (parseInt(match[3]!, 16) & 1) === 1 };
}

function nonZeroHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}
