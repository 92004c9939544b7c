import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createEncryptedTopic } from './encrypted-topic.ts';
import { WORKER_METRIC_NAMES, workerMetric } from '../worker-metrics.ts';

export interface OperationsAlarmsProps {
  /** Dead-letter queues by a short name (`Ingress`, `Email`); any visible message alarms. */
  deadLetterQueues: Record<string, sqs.IQueue>;
  /** The dispatcher: any error alarms (per-message failures are reported, not thrown, so an error is the whole batch). */
  dispatcher: lambda.IFunction;
  /** Functions by a short name whose throttles alarm. */
  functions: Record<string, lambda.IFunction>;
  /** The worker's main task queue (`TEMPORAL_TASK_QUEUE`): the `TaskQueue` dimension of its metrics. */
  taskQueue: string;
  /** Model calls failing, in percent of calls over 15 minutes, that alarm. @default 10 */
  modelErrorRatePercent?: number;
  /** Fewest model calls in 15 minutes for the rate to count: one failure of two calls is not an outage. @default 10 */
  modelErrorRateMinCalls?: number;
  /** Address subscribed to the alarm topic; it must confirm the subscription. @default no subscription */
  alarmEmail?: string;
}

/**
 * The alarms an operator acts on, all sent (in alarm and back to OK) to one SNS topic:
 * dead-lettered events, dispatcher errors, Lambda throttles, workflow task failures and the
 * model's error rate. The last two are custom metrics of the worker (worker-metrics.ts);
 * without data they stay OK. The topic is encrypted with a key CloudWatch may use (the AWS
 * managed SNS key does not admit CloudWatch) and takes TLS only.
 */
export class OperationsAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    this.topic = createEncryptedTopic(this, {
      description: 'Encrypts durable-agents alarm notifications',
      publisher: 'cloudwatch.amazonaws.com',
      sid: 'AllowCloudWatchAlarmsToPublishEncrypted',
      displayName: 'durable-agents alarms',
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      this.add(`${name}DeadLetters`, {
        metric: queue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        alarmDescription: `${name} dead-letter queue holds messages: events that were never delivered. Inspect them, fix the cause, then redrive.`,
      });
    }
    this.add('DispatcherErrors', {
      metric: props.dispatcher.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription:
        'The dispatcher failed whole batches (per-message failures are retried and dead-lettered, not counted here). See its logs.',
    });
    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(`${name}Throttles`, {
        metric: fn.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        alarmDescription: `The ${name} function was throttled: its reserved concurrency or the account's limit was reached.`,
      });
    }
    this.add('WorkflowTaskFailures', {
      metric: workerMetric(WORKER_METRIC_NAMES.workflowTaskFailures, props.taskQueue, {
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription:
        'Workflow tasks failed (non-determinism or a workflow code error): the affected workflows are stuck until a fixed worker is deployed.',
    });
    const modelErrorRatePercent = props.modelErrorRatePercent ?? 10;
    const fifteenMinutes = { statistic: cloudwatch.Stats.SUM, period: Duration.minutes(15) };
    this.add('ModelErrorRate', {
      metric: new cloudwatch.MathExpression({
        expression: `IF(calls >= ${props.modelErrorRateMinCalls ?? 10}, 100 * FILL(errors, 0) / calls, 0)`,
        usingMetrics: {
          errors: workerMetric(WORKER_METRIC_NAMES.modelCallErrors, props.taskQueue, fifteenMinutes),
          calls: workerMetric(WORKER_METRIC_NAMES.modelCalls, props.taskQueue, fifteenMinutes),
        },
        label: 'Model call error rate (%)',
        period: Duration.minutes(15),
      }),
      threshold: modelErrorRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `More than ${modelErrorRatePercent}% of model calls failed over 15 minutes: check the model provider's status, the API key and the rate limit.`,
    });
  }

  private add(id: string, props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods' | 'treatMissingData'>): void {
    // No data means nothing happened (no dead letters, no calls): OK, not insufficient data.
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new cloudwatchActions.SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms[id] = alarm;
  }
}
