import * as otel from '@opentelemetry/api';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
  SPAN_DELIMITER,
  SpanName,
  type OpenTelemetrySinks,
  type SerializableSpan,
} from '@temporalio/interceptors-opentelemetry';
// After the package: its runtime module gives the sandbox the `performance` these read at load.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  SimpleSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import {
  ContinueAsNew,
  defaultPayloadConverter,
  proxySinks,
  workflowInfo,
  type ActivityInput,
  type ContinueAsNewInput,
  type Headers,
  type Next,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { installTraceContext, type TraceContext } from './trace-context.ts';

/**
 * Workflow interceptors (a workflow interceptor module, not a workflow): a span for each run,
 * update, child start and activity scheduled, continuing the trace the starter put in the
 * headers and handing it on to children and activities. Spans leave the sandbox through the
 * `exporter` sink (telemetry/worker-tracing.ts).
 *
 * These are `@temporalio/interceptors-opentelemetry`'s (the OpenTelemetry 1.x generation), with
 * two changes, so that what a run records does not depend on the tracing (test/replay's
 * agent-run-sub-agent and conversation-approval.turn-1 do not replay with the package's as they are):
 *
 * - Span ids. The package's tracer draws them from `Math.random`, which in the sandbox is the
 *   workflow's own seeded random stream: every span shifts the `uuid4()` values the workflow
 *   draws next (child workflow ids), and replay no longer matches. Ids here come from a hash of
 *   the run id and a counter, and leave the workflow's stream alone.
 * - Yields. The package keeps an `await Promise.resolve()` of its early releases in execute,
 *   scheduleActivity, startChildWorkflowExecution, continueAsNew and signalWorkflow whenever a
 *   workflow task's metadata shows no recent SDK version, and that version is written only on a
 *   run's first task. The methods below do the same work without the extra turn.
 *
 * They add no commands and set no SDK flags. Same header (`_tracer-data`), span names and sink
 * as the package's, so its activity interceptor reads what they write.
 */

/** The header the package's interceptors use for the serialised context. */
const TRACE_HEADER = '_tracer-data';

function contextFrom(headers: Headers): otel.Context | undefined {
  const payload = headers[TRACE_HEADER];
  if (payload === undefined) return undefined;
  return otel.propagation.extract(otel.context.active(), defaultPayloadConverter.fromPayload(payload), otel.defaultTextMapGetter);
}

function headersWithContext(headers: Headers): Headers {
  const carrier: Record<string, string> = {};
  otel.propagation.inject(otel.context.active(), carrier, otel.defaultTextMapSetter);
  return { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload(carrier) };
}

/** Runs `fn` in a span, synchronously up to its first await (as the package does with the flag set). */
function inSpan<T>(
  tracer: otel.Tracer,
  name: string,
  fn: () => Promise<T>,
  context?: otel.Context,
  acceptable?: (error: unknown) => boolean,
): Promise<T> {
  const run = () =>
    tracer.startActiveSpan(name, async (span) => {
      try {
        const result = await fn();
        span.setStatus({ code: otel.SpanStatusCode.OK });
        return result;
      } catch (error) {
        if (acceptable?.(error)) span.setStatus({ code: otel.SpanStatusCode.OK });
        else {
          span.setStatus({ code: otel.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
          if (error instanceof Error) span.recordException(error);
        }
        throw error;
      } finally {
        span.end();
      }
    });
  return context ? otel.context.with(context, run) : run();
}

/** Span and trace ids that do not draw on the workflow's random stream: FNV-1a of the run id and a counter. */
let idsDrawn = 0;
function deterministicHex(bytes: number): string {
  let hex = '';
  while (hex.length < bytes * 2) {
    idsDrawn += 1;
    let hash = 0xcbf29ce484222325n;
    for (const char of `${workflowInfo().runId}:${idsDrawn}`)
      hash = BigInt.asUintN(64, (hash ^ BigInt(char.charCodeAt(0))) * 0x100000001b3n);
    hex += hash.toString(16).padStart(16, '0');
  }
  return hex.slice(0, bytes * 2);
}
const idGenerator: IdGenerator = { generateTraceId: () => deterministicHex(16), generateSpanId: () => deterministicHex(8) };

/** Hands ended spans to the worker through the `exporter` sink (dropped there on replay). */
const sinkExporter: SpanExporter = {
  export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
    proxySinks<OpenTelemetrySinks>().exporter.export(spans.map(serializable));
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: async () => undefined,
};

function serializable(span: ReadableSpan): SerializableSpan {
  const { traceState, ...spanContext } = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    spanContext: { ...spanContext, ...(traceState ? { traceState: traceState.serialize() } : {}) },
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: span.attributes,
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
    instrumentationLibrary: span.instrumentationLibrary,
  };
}

let workflowTracer: otel.Tracer | undefined;
/** The package's interceptors register the sandbox's context manager and propagator; this tracer only makes the spans. */
function tracer(): otel.Tracer {
  workflowTracer ??= new BasicTracerProvider({ idGenerator, spanProcessors: [new SimpleSpanProcessor(sinkExporter)] }).getTracer(
    '@temporalio/interceptor-workflow',
  );
  return workflowTracer;
}

const isContinueAsNew = (error: unknown) => error instanceof ContinueAsNew;

class WorkflowInboundTracing extends OpenTelemetryInboundInterceptor {
  protected override readonly tracer = tracer();

  override execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    return inSpan(
      this.tracer,
      `${SpanName.WORKFLOW_EXECUTE}${SPAN_DELIMITER}${workflowInfo().workflowType}`,
      () => next(input),
      contextFrom(input.headers),
      isContinueAsNew,
    );
  }
}

class WorkflowOutboundTracing extends OpenTelemetryOutboundInterceptor {
  protected override readonly tracer = tracer();

  override scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    return inSpan(this.tracer, `${SpanName.ACTIVITY_START}${SPAN_DELIMITER}${input.activityType}`, () =>
      next({ ...input, headers: headersWithContext(input.headers) }),
    );
  }

  override startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ): Promise<[Promise<string>, Promise<unknown>]> {
    return inSpan(this.tracer, `${SpanName.CHILD_WORKFLOW_START}${SPAN_DELIMITER}${input.workflowType}`, () =>
      next({ ...input, headers: headersWithContext(input.headers) }),
    );
  }

  override continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>): Promise<never> {
    return inSpan(
      this.tracer,
      `${SpanName.CONTINUE_AS_NEW}${SPAN_DELIMITER}${input.options.workflowType}`,
      () => next({ ...input, headers: headersWithContext(input.headers) }),
      undefined,
      isContinueAsNew,
    );
  }

  override signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>): Promise<void> {
    return inSpan(this.tracer, `${SpanName.WORKFLOW_SIGNAL}${SPAN_DELIMITER}${input.signalName}`, () =>
      next({ ...input, headers: headersWithContext(input.headers) }),
    );
  }
}

// The conversation reads and enters contexts through workflows/trace-context.ts (its bundle holds no OpenTelemetry package).
installTraceContext({
  active: () => {
    const active = otel.context.active();
    // Without a span (an update the SDK did not trace) the turn stays under the run's span rather than starting a trace.
    return otel.trace.getSpan(active) ? (active as unknown as TraceContext) : undefined;
  },
  within: (context, fn) => otel.context.with(context as unknown as otel.Context, fn),
});

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new WorkflowInboundTracing()],
  outbound: [new WorkflowOutboundTracing()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
