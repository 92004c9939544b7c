import type { WorkflowService } from '@temporalio/client';
import type { Logger, LogLevel, LogMetadata } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { VERSION_MOVE_MARK } from '../core/contracts/versions.ts';
import { TASK_QUEUE_DIMENSION, WORKER_METRIC_NAMES, WORKER_METRICS_NAMESPACE } from './metric-names.ts';

/**
 * The CloudWatch metrics the stack scales and alarms on (telemetry/metric-names.ts), written as
 * CloudWatch Embedded Metric Format: one JSON line per task queue on the worker's stdout,
 * which the ECS awslogs driver ships and CloudWatch Logs turns into metrics. No metrics
 * client, no `cloudwatch:PutMetricData`, no call that can fail or slow the worker: the log
 * driver already retries and batches.
 *
 * - `TaskQueueBacklog`: Temporal's approximate backlog of each queue the worker polls
 *   (workflow and activity tasks), asked of the server, so it is the fleet's value: every
 *   task publishes the same figure, and the scaling policy reads it with Maximum.
 * - `WorkflowTaskFailures`, `ModelCalls`, `ModelCallErrors`: this process's counts since its
 *   previous line, 0 included, so the alarms' Sum over the fleet is the fleet's count.
 */

/** In-process counts of what the alarms watch, taken (and reset) at each publication. */
export interface WorkerCounts {
  modelCall(outcome: 'ok' | 'error'): void;
  workflowTaskFailed(): void;
  /** The counts since the previous take. */
  take(): CountsTaken;
}

export interface CountsTaken {
  modelCalls: number;
  modelCallErrors: number;
  workflowTaskFailures: number;
}

export function createWorkerCounts(): WorkerCounts {
  let counts: CountsTaken = { modelCalls: 0, modelCallErrors: 0, workflowTaskFailures: 0 };
  return {
    modelCall(outcome) {
      counts.modelCalls += 1;
      if (outcome === 'error') counts.modelCallErrors += 1;
    },
    workflowTaskFailed() {
      counts.workflowTaskFailures += 1;
    },
    take() {
      const taken = counts;
      counts = { modelCalls: 0, modelCallErrors: 0, workflowTaskFailures: 0 };
      return taken;
    },
  };
}

/**
 * The line Temporal's Core logs (at WARN) each time it reports a workflow task failure to the
 * server: a workflow code error thrown in the sandbox and a non-determinism Core detects
 * alike. Core's own counter (`temporal_workflow_task_execution_failed`) cannot be read back
 * from Node, so its forwarded log line is counted instead; test/worker/cloudwatch-publisher.test.ts
 * fails a workflow task to keep this string honest across SDK upgrades.
 */
export const WORKFLOW_TASK_FAILED_MESSAGE = 'Failing workflow task';

/**
 * A Runtime logger that counts Core's workflow task failures on their way to `downstream`.
 * It sees them only when Core's logs are forwarded (`telemetryOptions.logging.forward`).
 */
export function countingWorkflowTaskFailures(downstream: Logger, counts: WorkerCounts): Logger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    if (level === 'WARN' && message === WORKFLOW_TASK_FAILED_MESSAGE && !movedOnPurpose(meta)) counts.workflowTaskFailed();
    downstream.log(level, message, meta);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/** A conversation's task failed on its old build so the new build takes it (`workflows/conversation-version.ts`): not a fault. */
function movedOnPurpose(meta: LogMetadata | undefined): boolean {
  const failure = meta?.failure;
  return typeof failure === 'string' && failure.includes(VERSION_MOVE_MARK);
}

export interface TaskQueueBacklog {
  taskQueue: string;
  /** Workflow and activity tasks waiting for a poller. */
  backlog: number;
}

// Enum values of temporal.api.enums.v1 (the proto package is not a dependency of the worker).
const TASK_QUEUE_KIND_NORMAL = 1 as temporal.api.enums.v1.TaskQueueKind;
const TASK_QUEUE_TYPES = [1, 2] as temporal.api.enums.v1.TaskQueueType[]; // WORKFLOW, ACTIVITY

/** Each queue's approximate backlog (`DescribeTaskQueue` with `reportStats`), workflow and activity tasks together. */
export async function readBacklogs(service: WorkflowService, namespace: string, taskQueues: string[]): Promise<TaskQueueBacklog[]> {
  return Promise.all(
    taskQueues.map(async (taskQueue) => {
      const counts = await Promise.all(
        TASK_QUEUE_TYPES.map(async (taskQueueType) => {
          const response = await service.describeTaskQueue({
            namespace,
            taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
            taskQueueType,
            reportStats: true,
          });
          return Number(response.stats?.approximateBacklogCount ?? 0);
        }),
      );
      return { taskQueue, backlog: counts.reduce((sum, count) => sum + count, 0) };
    }),
  );
}

/** One EMF line: the metrics' values and their `TaskQueue` dimension, under the `_aws` directive. */
function emfLine(timestamp: number, taskQueue: string, values: Partial<Record<string, number>>): string {
  const metrics = Object.keys(values).map((name) => ({ Name: name, Unit: 'Count' }));
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{ Namespace: WORKER_METRICS_NAMESPACE, Dimensions: [[TASK_QUEUE_DIMENSION]], Metrics: metrics }],
    },
    [TASK_QUEUE_DIMENSION]: taskQueue,
    ...values,
  });
}

/**
 * The EMF lines of one publication: one per measured queue with its backlog, and the counts on
 * the line of the worker's main queue (their `TaskQueue` is always the main queue).
 */
export function emfLines(input: { timestamp: number; mainTaskQueue: string; backlogs: TaskQueueBacklog[]; counts: CountsTaken }): string[] {
  const counts = {
    [WORKER_METRIC_NAMES.workflowTaskFailures]: input.counts.workflowTaskFailures,
    [WORKER_METRIC_NAMES.modelCalls]: input.counts.modelCalls,
    [WORKER_METRIC_NAMES.modelCallErrors]: input.counts.modelCallErrors,
  };
  const lines = input.backlogs.map(({ taskQueue, backlog }) =>
    emfLine(input.timestamp, taskQueue, {
      [WORKER_METRIC_NAMES.taskQueueBacklog]: backlog,
      ...(taskQueue === input.mainTaskQueue ? counts : {}),
    }),
  );
  if (!input.backlogs.some(({ taskQueue }) => taskQueue === input.mainTaskQueue))
    lines.push(emfLine(input.timestamp, input.mainTaskQueue, counts));
  return lines;
}
