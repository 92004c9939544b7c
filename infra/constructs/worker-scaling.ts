import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { WORKER_METRIC_NAMES, workerMetric } from '../worker-metrics.ts';

export interface WorkerScalingProps {
  service: ecs.FargateService;
  /** Task queues whose backlogs add up to the scaling metric, e.g. `agents` and `agents-model`. */
  taskQueues: string[];
  /** @default 1 */
  minCapacity?: number;
  /** @default 4 */
  maxCapacity?: number;
  /** Summed backlog at which one task is added; five times this adds three. @default 20 */
  scaleOutBacklog?: number;
  /** Average CPU the service is kept at. @default 60 */
  cpuTargetPercent?: number;
}

/**
 * Scales the worker service between its bounds on two signals. The task queues' summed
 * approximate backlog scales out in steps: tasks waiting for a poller mean too few workers.
 * It never scales in, because Temporal's backlog sits at 0 under heavy load too (pollers
 * take tasks as they arrive); CPU target tracking scales in (and out) instead. A missing
 * backlog (no publisher yet) leaves its alarm without data, which scales nothing.
 */
export class WorkerScaling extends Construct {
  readonly scalableTarget: ecs.ScalableTaskCount;
  readonly backlog: cloudwatch.IMetric;

  constructor(scope: Construct, id: string, props: WorkerScalingProps) {
    super(scope, id);
    const scaleOutBacklog = props.scaleOutBacklog ?? 20;
    this.scalableTarget = props.service.autoScaleTaskCount({ minCapacity: props.minCapacity ?? 1, maxCapacity: props.maxCapacity ?? 4 });
    this.backlog = summedBacklog(props.taskQueues);
    this.scalableTarget.scaleOnMetric('Backlog', {
      metric: this.backlog,
      scalingSteps: [
        { upper: scaleOutBacklog, change: 0 },
        { lower: scaleOutBacklog, change: +1 },
        { lower: scaleOutBacklog * 5, change: +3 },
      ],
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      evaluationPeriods: 3,
      cooldown: Duration.minutes(3),
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
    });
    this.scalableTarget.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.cpuTargetPercent ?? 60,
      // Scale in slowly: a stopped task drains its activities for up to two minutes.
      scaleInCooldown: Duration.minutes(10),
      scaleOutCooldown: Duration.minutes(2),
    });
  }
}

/** The backlogs of the queues, summed; one queue's backlog is the metric itself. */
function summedBacklog(taskQueues: string[]): cloudwatch.IMetric {
  const metrics = taskQueues.map((taskQueue) =>
    workerMetric(WORKER_METRIC_NAMES.taskQueueBacklog, taskQueue, { statistic: cloudwatch.Stats.MAXIMUM }),
  );
  if (metrics.length === 1) return metrics[0]!;
  const usingMetrics = Object.fromEntries(metrics.map((metric, index) => [`backlog${index}`, metric]));
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics).join(' + '),
    usingMetrics,
    label: `Backlog of ${taskQueues.join(', ')}`,
    period: Duration.minutes(1),
  });
}
