import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_QUEUE_DIMENSION, WORKER_METRIC_NAMES, WORKER_METRICS_NAMESPACE } from '../../infra/worker-metrics.ts';
import { DEPLOYED_CONTEXT, synthesize, type Synthesized } from './synth.ts';

describe("operations: worker scaling, alarms and the Slack edge's reserved concurrency", () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthesize({ ...DEPLOYED_CONTEXT, alarmEmail: 'ops@example.com', workerMaxCount: '6' }, { bundle: false });
  });
  afterAll(() => synthesized?.dispose());

  const topicRef = () => ({ Ref: synthesized.logicalId(synthesized.stack.alarms.topic) });
  const backlogOf = (taskQueue: string) =>
    Match.objectLike({
      MetricStat: Match.objectLike({
        Metric: {
          Namespace: WORKER_METRICS_NAMESPACE,
          MetricName: WORKER_METRIC_NAMES.taskQueueBacklog,
          Dimensions: [{ Name: TASK_QUEUE_DIMENSION, Value: taskQueue }],
        },
        Stat: 'Maximum',
      }),
      ReturnData: false,
    });

  it('keeps the documented metric contract', () => {
    expect(WORKER_METRICS_NAMESPACE).toBe('DurableAgents');
    expect(TASK_QUEUE_DIMENSION).toBe('TaskQueue');
    expect(WORKER_METRIC_NAMES).toEqual({
      taskQueueBacklog: 'TaskQueueBacklog',
      workflowTaskFailures: 'WorkflowTaskFailures',
      modelCalls: 'ModelCalls',
      modelCallErrors: 'ModelCallErrors',
    });
  });

  it('scales the worker service between its bounds', () => {
    synthesized.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 6,
      ScalableDimension: 'ecs:service:DesiredCount',
      ServiceNamespace: 'ecs',
      ResourceId: Match.objectLike({
        'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [synthesized.logicalId(synthesized.stack.worker.service), 'Name'] }])],
      }),
    });
  });

  it('scales out in steps on the summed backlog of the main and the model task queues, and never in on it', () => {
    const policies = synthesized.template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy', {
      Properties: { PolicyType: 'StepScaling' },
    });
    expect(Object.keys(policies)).toHaveLength(1);
    const [policyId] = Object.keys(policies);
    synthesized.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ChangeInCapacity',
        MetricAggregationType: 'Maximum',
        // Relative to the alarm's threshold (20): 20–100 adds one task, 100 and more add three.
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 80, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 80, ScalingAdjustment: 3 },
        ],
      }),
    });
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: policyId }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 20,
      EvaluationPeriods: 3,
      Metrics: [Match.objectLike({ Expression: 'backlog0 + backlog1', ReturnData: true }), backlogOf('agents'), backlogOf('agents-model')],
    });
    const backlogAlarms = synthesized.template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Metrics: Match.arrayWith([backlogOf('agents')]) },
    });
    expect(Object.keys(backlogAlarms)).toHaveLength(1);
  });

  it('tracks a CPU target', () => {
    synthesized.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
      }),
    });
  });

  it('notifies an encrypted, TLS-only topic, with the alarm email subscribed', () => {
    const topic = synthesized.logicalId(synthesized.stack.alarms.topic);
    synthesized.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsTopicKey'), 'Arn'] },
    });
    synthesized.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
    synthesized.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    synthesized.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topic },
    });
    synthesized.template.hasOutput('AlarmTopicArn', { Value: { Ref: topic } });
  });

  it('alarms on any message in either dead-letter queue', () => {
    for (const queue of [synthesized.stack.ingressQueue.deadLetterQueue, synthesized.stack.emailIngress.deadLetterQueue]) {
      synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [synthesized.logicalId(queue), 'QueueName'] } }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        AlarmActions: [topicRef()],
        OKActions: [topicRef()],
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarms on any dispatcher error', () => {
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: synthesized.logicalId(synthesized.stack.dispatcher.function) } }],
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [topicRef()],
    });
  });

  it('alarms on throttles of every function', () => {
    const functions = Object.keys(synthesized.template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
        Statistic: 'Sum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        AlarmActions: [topicRef()],
      });
    }
  });

  it('alarms on any workflow task failure the worker reports', () => {
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: WORKER_METRICS_NAMESPACE,
      MetricName: WORKER_METRIC_NAMES.workflowTaskFailures,
      Dimensions: [{ Name: TASK_QUEUE_DIMENSION, Value: 'agents' }],
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [topicRef()],
      OKActions: [topicRef()],
    });
  });

  it('alarms when more than 10% of at least 10 model calls fail in 15 minutes', () => {
    const workerMetric = (id: string, metricName: string) =>
      Match.objectLike({
        Id: id,
        MetricStat: {
          Metric: {
            Namespace: WORKER_METRICS_NAMESPACE,
            MetricName: metricName,
            Dimensions: [{ Name: TASK_QUEUE_DIMENSION, Value: 'agents' }],
          },
          Period: 900,
          Stat: 'Sum',
        },
      });
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({ Expression: 'IF(calls >= 10, 100 * FILL(errors, 0) / calls, 0)', ReturnData: true }),
        workerMetric('errors', WORKER_METRIC_NAMES.modelCallErrors),
        workerMetric('calls', WORKER_METRIC_NAMES.modelCalls),
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 10,
      AlarmActions: [topicRef()],
    });
  });

  it('notifies the topic from every alarm but the scaling one', () => {
    const alarms = Object.values(synthesized.template.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { AlarmActions: unknown[] };
    }[];
    const toTopic = alarms.filter((alarm) => JSON.stringify(alarm.Properties.AlarmActions) === JSON.stringify([topicRef()]));
    // Two dead-letter queues, dispatcher errors, three functions' throttles, workflow task failures, model error rate.
    expect(toTopic).toHaveLength(8);
    expect(alarms).toHaveLength(9);
  });

  it('reserves 50 concurrent executions for the Slack edge only', () => {
    synthesized.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Slack ingress'),
      ReservedConcurrentExecutions: 50,
    });
    for (const fn of [synthesized.stack.emailIngress.function, synthesized.stack.dispatcher.function]) {
      expect(synthesized.template.toJSON().Resources[synthesized.logicalId(fn)].Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it('passes cdk-nag AwsSolutions', () => {
    expect(new AwsSolutionsChecks().validateScope(synthesized.app).violations).toEqual([]);
  });
});

describe('operations settings', () => {
  it('takes its thresholds, bounds and reserved concurrency from the settings; 0 reserves nothing', () => {
    const synthesized = synthesize(
      {
        ...DEPLOYED_CONTEXT,
        temporalTaskQueue: 'support',
        workerMinCount: '2',
        workerMaxCount: '10',
        workerDesiredCount: '2',
        workerScaleOutBacklog: '50',
        workerCpuTargetPercent: '45',
        modelErrorRatePercent: '25',
        slackReservedConcurrency: '0',
      },
      { bundle: false },
    );
    try {
      const { template } = synthesized;
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 10 });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 50,
        Metrics: Match.arrayWith([
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({ Dimensions: [{ Name: TASK_QUEUE_DIMENSION, Value: 'support-model' }] }),
            }),
          }),
        ]),
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 45 }),
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: WORKER_METRIC_NAMES.workflowTaskFailures,
        Dimensions: [{ Name: TASK_QUEUE_DIMENSION, Value: 'support' }],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('^IF\\(calls') })]),
        Threshold: 25,
      });
      expect(template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } })).toEqual({});
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: Record<string, unknown> }[]) {
        expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
      }
    } finally {
      synthesized.dispose();
    }
  });

  it('refuses bounds that contradict each other and a malformed alarm email, naming the key', () => {
    expect(() => synthesize({ workerMinCount: '5', workerMaxCount: '3' }, { bundle: false })).toThrow(
      /workerMinCount: must not exceed workerMaxCount \(3\)/,
    );
    expect(() => synthesize({ workerDesiredCount: '8' }, { bundle: false })).toThrow(
      /workerDesiredCount: must lie between workerMinCount \(1\) and workerMaxCount \(4\)/,
    );
    // The worker publishes the backlog that scaling reads: with no task, nothing would start one.
    expect(() => synthesize({ workerMinCount: '0' }, { bundle: false })).toThrow(/workerMinCount/);
    expect(() => synthesize({ alarmEmail: 'ops' }, { bundle: false })).toThrow(/alarmEmail/);
  });
});
