import { AsyncLocalStorage } from 'node:async_hooks';
import * as otel from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/**
 * What a process traces with: a tracer for its own spans, and the span processor and resource
 * that Temporal's workflow span sink needs (workflow spans are made inside the sandbox and
 * handed out through a sink). Passed down explicitly; no global tracer provider is set.
 */
export interface Tracing {
  tracer: otel.Tracer;
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Records a span made elsewhere under a span id chosen there (the Slack edge's, see traceparent.ts). */
  recordSpan(span: RecordedSpan): void;
  /** Exports what is buffered: a Lambda calls it before it returns, since it may be frozen after. */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface RecordedSpan {
  name: string;
  traceId: string;
  spanId: string;
  startMs: number;
  endMs: number;
  kind?: otel.SpanKind;
  attributes?: otel.Attributes;
}

export interface TracingOptions {
  /** `service.name` of the spans: `slack-edge`, `dispatch`, `worker`. */
  serviceName: string;
  /** OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `{endpoint}/v1/traces`, in batches. */
  otlpEndpoint?: string;
  /** Exports each span as it ends (tests pass an `InMemorySpanExporter`). */
  exporter?: SpanExporter;
}

/** Tracing when an exporter or an OTLP endpoint is given; undefined (nothing traced, nothing exported) otherwise. */
export function createTracing(options: TracingOptions): Tracing | undefined {
  const spanProcessor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : options.otlpEndpoint
      ? new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }))
      : undefined;
  if (!spanProcessor) return undefined;
  installTracingGlobals();
  const resource = new Resource({ 'service.name': options.serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const tracer = provider.getTracer('durable-agents');
  return {
    tracer,
    spanProcessor,
    resource,
    recordSpan(span) {
      spanProcessor.onEnd(readableSpan(span, resource));
    },
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * The process-wide parts OpenTelemetry's API keeps globally: W3C propagation (Temporal's
 * interceptors inject and extract headers through it) and a context manager over
 * AsyncLocalStorage, so the span active around an `await` is still active after it.
 */
export function installTracingGlobals(): void {
  otel.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  otel.context.setGlobalContextManager(asyncLocalStorageContextManager());
}

function asyncLocalStorageContextManager(): otel.ContextManager {
  const storage = new AsyncLocalStorage<otel.Context>();
  const manager: otel.ContextManager = {
    active: () => storage.getStore() ?? otel.ROOT_CONTEXT,
    with: (context, fn, thisArg, ...args) => storage.run(context, () => fn.apply(thisArg, args)),
    bind: (context, target) => {
      if (typeof target !== 'function') return target;
      const fn = target as (...args: unknown[]) => unknown;
      return function bound(this: unknown, ...args: unknown[]) {
        return storage.run(context, () => fn.apply(this, args));
      } as typeof target;
    },
    enable: () => manager,
    disable: () => {
      storage.disable();
      return manager;
    },
  };
  return manager;
}

function readableSpan(span: RecordedSpan, resource: Resource): ReadableSpan {
  const hr = (ms: number): otel.HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
  const duration = Math.max(0, span.endMs - span.startMs);
  return {
    name: span.name,
    kind: span.kind ?? otel.SpanKind.SERVER,
    spanContext: () => ({ traceId: span.traceId, spanId: span.spanId, traceFlags: otel.TraceFlags.SAMPLED }),
    startTime: hr(span.startMs),
    endTime: hr(span.startMs + duration),
    duration: hr(duration),
    status: { code: otel.SpanStatusCode.UNSET },
    attributes: span.attributes ?? {},
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationLibrary: { name: 'durable-agents' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
