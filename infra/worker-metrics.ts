import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Duration } from 'aws-cdk-lib';

/**
 * The custom CloudWatch metrics the stack scales and alarms on. Nothing here publishes
 * them: the backlog comes from a publisher that asks Temporal for each task queue's
 * approximate backlog, the others from the worker's own metrics. Names and dimensions are
 * a wire contract between those publishers and this stack: never renamed in place.
 *
 * Every metric carries the `TaskQueue` dimension: for the backlog, the queue measured; for
 * the rest, the worker's main task queue (`TEMPORAL_TASK_QUEUE`), which also keeps two
 * deployments in one account and region apart.
 */
export const WORKER_METRICS_NAMESPACE = 'DurableAgents';
export const TASK_QUEUE_DIMENSION = 'TaskQueue';

export const WORKER_METRIC_NAMES = {
  /** Approximate backlog of one task queue (tasks waiting for a poller), a gauge published every minute, 0 included. */
  taskQueueBacklog: 'TaskQueueBacklog',
  /** Workflow task failures (non-determinism, a workflow code error), a count. */
  workflowTaskFailures: 'WorkflowTaskFailures',
  /** Model calls attempted, a count; each attempt of a retried call counts. */
  modelCalls: 'ModelCalls',
  /** Model calls that failed (the attempts counted in ModelCalls that threw), a count. */
  modelCallErrors: 'ModelCallErrors',
} as const;

export type WorkerMetricName = (typeof WORKER_METRIC_NAMES)[keyof typeof WORKER_METRIC_NAMES];

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
