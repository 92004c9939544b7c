import { fileURLToPath } from 'node:url';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import type { Tracing } from './tracing.ts';

/** The workflow interceptor module: in every workflow bundle, traced or not, so the bundle (and replay) is the same either way. */
export const WORKFLOW_INTERCEPTORS_PATH = fileURLToPath(new URL('../workflows/interceptors.ts', import.meta.url));

/**
 * The worker's side of tracing: the workflow interceptors run in the bundle; activities get a
 * span each, the child of the workflow's "StartActivity" span; and workflow spans leave the
 * sandbox through the `exporter` sink into the span processor. Without tracing the sink
 * drops them.
 */
export function tracingWorkerOptions(tracing: Tracing | undefined): {
  interceptors: WorkerInterceptors;
  sinks: InjectedSinks<OpenTelemetrySinks>;
} {
  const options = tracing ? { tracer: tracing.tracer } : {};
  return {
    interceptors: {
      workflowModules: [WORKFLOW_INTERCEPTORS_PATH],
      ...(tracing
        ? {
            activity: [
              (ctx) => ({
                inbound: new OpenTelemetryActivityInboundInterceptor(ctx, options),
                outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
              }),
            ],
          }
        : {}),
    },
    sinks: tracing
      ? { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) }
      : { exporter: { export: { fn: () => undefined } } },
  };
}
