import type { Logger } from '@temporalio/common';
import { DefaultLogger, type RuntimeOptions } from '@temporalio/worker';
import { countingWorkflowTaskFailures, type WorkerCounts } from './cloudwatch-metrics.ts';
import type { TelemetrySettings } from '../config/worker-settings.ts';

/**
 * The Temporal Runtime's metrics exporters, from the settings: a Prometheus scrape endpoint
 * (`METRICS_PROMETHEUS_BIND`, locally) and/or OTLP to a collector
 * (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, in AWS). They carry the SDK's worker metrics
 * (`temporal_*`: task latencies, slots, polls, sticky cache) and the agents' own
 * (`agent_*`, telemetry/agent-metrics.ts), which go through the same meter. Undefined: the
 * Runtime's defaults, no metrics exported. `Runtime.install` takes one exporter, so
 * Prometheus wins when both are set (a local process beside a collector).
 */
export function runtimeTelemetryOptions(settings: TelemetrySettings): RuntimeOptions['telemetryOptions'] | undefined {
  if (settings.METRICS_PROMETHEUS_BIND) {
    return {
      metrics: { prometheus: { bindAddress: settings.METRICS_PROMETHEUS_BIND, countersTotalSuffix: true, useSecondsForDurations: true } },
    };
  }
  if (settings.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) {
    return {
      metrics: {
        otel: {
          url: settings.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
          metricsExportInterval: '10 seconds',
          useSecondsForDurations: true,
          temporality: 'cumulative',
        },
      },
    };
  }
  return undefined;
}

/**
 * The Runtime's options: its metrics exporter and, when the CloudWatch counts are kept, Core's
 * logs forwarded (at WARN, as Core prints them by default) through a logger that counts the
 * workflow task failures among them, then hands every line to `logger` (the Runtime's default,
 * `DefaultLogger('INFO')`, unless given). Undefined: the Runtime's defaults.
 */
export function runtimeOptions(
  settings: TelemetrySettings,
  counts?: WorkerCounts,
  logger: Logger = new DefaultLogger('INFO'),
): RuntimeOptions | undefined {
  const telemetryOptions = runtimeTelemetryOptions(settings);
  if (!counts) return telemetryOptions ? { telemetryOptions } : undefined;
  return {
    logger: countingWorkflowTaskFailures(logger, counts),
    telemetryOptions: { ...telemetryOptions, logging: { forward: {} } },
  };
}
