/**
 * The custom CloudWatch metrics the worker publishes and the CDK app scales and alarms on
 * (infra/worker-metrics.ts builds its `cloudwatch.Metric`s from these). Names, namespace and
 * dimension are a wire contract between the worker's publisher (telemetry/cloudwatch-metrics.ts)
 * and the stack: never renamed in place.
 *
 * Every metric carries the `TaskQueue` dimension: for the backlog, the queue measured; for
 * the rest, the worker's main task queue (`TEMPORAL_TASK_QUEUE`), which also keeps two
 * deployments in one account and region apart.
 */
export const WORKER_METRICS_NAMESPACE = 'DurableAgents';
export const TASK_QUEUE_DIMENSION = 'TaskQueue';

export const WORKER_METRIC_NAMES = {
  /** Approximate backlog of one task queue (tasks waiting for a poller), a fleet-wide gauge: read with Maximum. */
  taskQueueBacklog: 'TaskQueueBacklog',
  /** Workflow task failures (non-determinism, a workflow code error), a count per task: read with Sum. */
  workflowTaskFailures: 'WorkflowTaskFailures',
  /** Model calls attempted, a count per task: read with Sum; each attempt of a retried call counts. */
  modelCalls: 'ModelCalls',
  /** Model calls that failed (the attempts counted in ModelCalls that threw), a count per task: read with Sum. */
  modelCallErrors: 'ModelCallErrors',
} as const;

export type WorkerMetricName = (typeof WORKER_METRIC_NAMES)[keyof typeof WORKER_METRIC_NAMES];
