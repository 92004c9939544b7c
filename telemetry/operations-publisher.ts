import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import { approvalGauges, readWaitingApprovals } from './approvals-waiting.ts';
import { emfLines, readBacklogs, type WorkerCounts } from './cloudwatch-metrics.ts';

export interface OperationsPublisherOptions {
  client: Client;
  namespace: string;
  /** The worker's main task queue (`TEMPORAL_TASK_QUEUE`). */
  taskQueue: string;
  /** Every queue whose backlog is published. @default [taskQueue, `${taskQueue}-model`] */
  backlogQueues?: string[];
  /**
   * The Runtime's meter (Prometheus or OTLP): the approval gauges go there, beside the agent
   * metrics. @default none: no approval gauges
   */
  meter?: MetricMeter;
  /** Agents whose approval gauges read 0 while none of their runs waits. @default [] */
  agents?: Iterable<string>;
  /**
   * CloudWatch EMF lines (`CLOUDWATCH_METRICS`): the counts to publish and where each line
   * goes (the worker's stdout, which the ECS log driver ships). @default none: no EMF
   */
  cloudWatch?: { counts: WorkerCounts; write: (line: string) => void };
  /** @default Date.now */
  now?: () => number;
}

export interface OperationsPublisher {
  /** One reading and publication; rejects when Temporal does not answer. */
  publishOnce(): Promise<void>;
}

/**
 * What the worker reads from Temporal on a timer for operators: the task queues' backlogs
 * (CloudWatch, for scaling) and the approvals waiting (the Runtime's meter); with the counts of
 * model calls and workflow task failures (CloudWatch, for the alarms).
 */
export function createOperationsPublisher(options: OperationsPublisherOptions): OperationsPublisher {
  const now = options.now ?? Date.now;
  const backlogQueues = options.backlogQueues ?? [options.taskQueue, `${options.taskQueue}-model`];
  const gauges = options.meter ? approvalGauges(options.meter, options.taskQueue, options.agents ?? []) : undefined;
  return {
    async publishOnce() {
      // Independent: visibility refusing the approvals query must not cost the scaling metric.
      const [backlogs, waiting] = await Promise.allSettled([
        options.cloudWatch ? readBacklogs(options.client.workflowService, options.namespace, backlogQueues) : undefined,
        gauges ? readWaitingApprovals(options.client, options.taskQueue) : undefined,
      ]);
      if (waiting.status === 'fulfilled' && waiting.value) gauges?.set(waiting.value, now());
      if (options.cloudWatch && backlogs.status === 'fulfilled' && backlogs.value) {
        const lines = emfLines({
          timestamp: now(),
          mainTaskQueue: options.taskQueue,
          backlogs: backlogs.value,
          counts: options.cloudWatch.counts.take(),
        });
        for (const line of lines) options.cloudWatch.write(line);
      }
      const failures = [
        backlogs.status === 'rejected' ? `backlog: ${reason(backlogs.reason)}` : '',
        waiting.status === 'rejected' ? `approvals waiting: ${reason(waiting.reason)}` : '',
      ];
      if (failures.some(Boolean)) throw new Error(failures.filter(Boolean).join('; '));
    },
  };
}

/**
 * Publishes every `intervalMs` until stopped; a failed reading is one line through `log` and
 * the next tick tries again (counts not yet written stay counted). `stop` publishes once more,
 * so the counts of the last interval are not lost at shutdown.
 */
export function publishPeriodically(
  publisher: OperationsPublisher,
  intervalMs: number,
  log: (line: string) => void,
): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = running.then(() =>
      publisher.publishOnce().catch((error: unknown) => log(`Operations metrics not published: ${reason(error)}`)),
    );
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      tick();
      await running;
    },
  };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
