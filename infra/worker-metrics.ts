import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Duration } from 'aws-cdk-lib';
import { TASK_QUEUE_DIMENSION, WORKER_METRICS_NAMESPACE, type WorkerMetricName } from '../telemetry/metric-names.ts';

/**
 * The custom CloudWatch metrics the stack scales and alarms on. The worker publishes them
 * (telemetry/cloudwatch-metrics.ts, CloudWatch Embedded Metric Format on its log stream); names
 * and dimensions are the contract in telemetry/metric-names.ts, which both sides import.
 */
export { TASK_QUEUE_DIMENSION, WORKER_METRIC_NAMES, WORKER_METRICS_NAMESPACE, type WorkerMetricName } from '../telemetry/metric-names.ts';

/** One of the metrics above, for one task queue. */
export function workerMetric(metricName: WorkerMetricName, taskQueue: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: WORKER_METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [TASK_QUEUE_DIMENSION]: taskQueue },
    period: Duration.minutes(1),
    ...options,
  });
}
