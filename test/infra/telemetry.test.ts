import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_QUEUE_DIMENSION, WORKER_METRIC_NAMES, WORKER_METRICS_NAMESPACE } from '../../telemetry/metric-names.ts';
import { ADOT_COLLECTOR_IMAGE, COLLECTOR_ENDPOINTS, RUNTIME_METRICS_NAMESPACE } from '../../infra/constructs/otel-collector.ts';
import { emfLines } from '../../telemetry/cloudwatch-metrics.ts';
import { APPROVAL_GAUGES } from '../../telemetry/approvals-waiting.ts';
import { DEPLOYED_CONTEXT, synthesize, type Synthesized } from './synth.ts';

interface ContainerDefinition {
  Name: string;
  Image: unknown;
  Essential?: boolean;
  Command?: string[];
  Environment?: { Name: string; Value: unknown }[];
  DependsOn?: { ContainerName: string; Condition: string }[];
  HealthCheck?: { Command: string[] };
}

/** A metric as an alarm's template names it: namespace, name, dimensions, statistic. */
interface MetricRead {
  namespace: string;
  name: string;
  dimensions: Record<string, unknown>;
  stat: string;
}

/** Every custom metric the alarms (the scaling policy's included) read, from the template. */
function metricsRead(resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>): MetricRead[] {
  const read: MetricRead[] = [];
  const dimensionsOf = (dimensions: { Name: string; Value: unknown }[] | undefined) =>
    Object.fromEntries((dimensions ?? []).map(({ Name, Value }) => [Name, Value]));
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const properties = resource.Properties!;
    if (properties.MetricName) {
      read.push({
        namespace: properties.Namespace as string,
        name: properties.MetricName as string,
        dimensions: dimensionsOf(properties.Dimensions as never),
        stat: properties.Statistic as string,
      });
    }
    for (const query of (properties.Metrics as
      { MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: never }; Stat: string } }[] | undefined) ?? []) {
      if (!query.MetricStat) continue;
      const { Metric, Stat } = query.MetricStat;
      read.push({ namespace: Metric.Namespace, name: Metric.MetricName, dimensions: dimensionsOf(Metric.Dimensions), stat: Stat });
    }
  }
  return read.filter((metric) => metric.namespace === WORKER_METRICS_NAMESPACE);
}

describe('telemetry: the OpenTelemetry collector beside the worker, and the metrics the worker publishes', () => {
  let synthesized: Synthesized;
  let containers: ContainerDefinition[];
  beforeAll(() => {
    synthesized = synthesize(DEPLOYED_CONTEXT, { bundle: false });
    const taskDefinition = synthesized.template.toJSON().Resources[synthesized.logicalId(synthesized.stack.worker.taskDefinition)];
    containers = taskDefinition.Properties.ContainerDefinitions as ContainerDefinition[];
  });
  afterAll(() => synthesized?.dispose());

  const named = (prefix: string) => containers.find((container) => container.Name.startsWith(prefix))!;
  const environmentOf = (container: ContainerDefinition) =>
    Object.fromEntries((container.Environment ?? []).map(({ Name, Value }) => [Name, Value]));

  it('runs an ADOT collector beside the worker, not essential, healthy by its own check, started before the worker', () => {
    const collector = named('Collector');
    expect(collector).toMatchObject({
      Image: ADOT_COLLECTOR_IMAGE,
      Essential: false,
      Command: ['--feature-gates=exporter.awsxray.skiptimestampvalidation'],
      HealthCheck: { Command: ['CMD', '/healthcheck'] },
    });
    expect(named('Worker').DependsOn).toEqual([{ ContainerName: collector.Name, Condition: 'START' }]);
  });

  it('points the worker at the collector and turns on its CloudWatch metrics', () => {
    expect(environmentOf(named('Worker'))).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR_ENDPOINTS.traces,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: COLLECTOR_ENDPOINTS.metrics,
      CLOUDWATCH_METRICS: 'true',
    });
    expect(COLLECTOR_ENDPOINTS).toEqual({ traces: 'http://localhost:4318', metrics: 'http://localhost:4317' });
  });

  it('configures OTLP in on localhost, spans to X-Ray and metrics as EMF into its own log group', () => {
    const config = synthesized.stack.worker.collector!.config as {
      receivers: { otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } } };
      exporters: {
        awsxray: unknown;
        awsemf: { namespace: string; log_group_name: string; metric_declarations: { metric_name_selectors: string[] }[] };
      };
      service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
    };
    expect(config.receivers.otlp.protocols).toEqual({ grpc: { endpoint: '127.0.0.1:4317' }, http: { endpoint: '127.0.0.1:4318' } });
    expect(config.service.pipelines).toMatchObject({
      traces: { receivers: ['otlp'], exporters: ['awsxray'] },
      metrics: { receivers: ['otlp'], exporters: ['awsemf'] },
    });
    expect(config.exporters.awsemf.namespace).toBe(RUNTIME_METRICS_NAMESPACE);
    // The stack's contract namespace is the worker's own EMF lines', not the collector's.
    expect(RUNTIME_METRICS_NAMESPACE).not.toBe(WORKER_METRICS_NAMESPACE);
    const selected = config.exporters.awsemf.metric_declarations.flatMap((declaration) => declaration.metric_name_selectors);
    for (const gauge of Object.values(APPROVAL_GAUGES)) expect(selected).toContain(`^${gauge}$`);

    // The container carries the config as JSON (YAML's subset), the log group's name resolved by CloudFormation.
    const content = environmentOf(named('Collector')).AOT_CONFIG_CONTENT as { 'Fn::Join': [string, unknown[]] };
    const parts = content['Fn::Join'][1];
    expect(parts).toContainEqual({ Ref: synthesized.logicalId(synthesized.stack.worker.collector!.metricsLogGroup) });
    expect(parts).toContainEqual({ Ref: 'AWS::Region' });
    expect(parts.filter((part): part is string => typeof part === 'string').join('')).toContain('"awsxray"');
  });

  it('grants the collector exactly what its exporters call: X-Ray segments, and streams and events in its log group', () => {
    const { template, stack } = synthesized;
    const taskRole = synthesized.logicalId(stack.worker.taskDefinition.taskRole);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: taskRole }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [synthesized.logicalId(stack.worker.collector!.metricsLogGroup), 'Arn'] },
          },
          { Action: 'xray:PutTraceSegments', Effect: 'Allow', Resource: '*' },
        ]),
      },
    });
    // No wildcard action anywhere in the task role's policy, and no PutMetricData: EMF needs none.
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: taskRole }] } });
    const actions = Object.values(policies).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((statement) => [statement.Action].flat()),
    );
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    expect(actions).not.toContain('cloudwatch:PutMetricData');
  });

  it('alarms and scales on exactly the metrics the worker publishes: names, namespace, dimension, queues and statistics', () => {
    const mainQueue = environmentOf(named('Worker')).TEMPORAL_TASK_QUEUE as string;
    // What the worker writes for its queues (telemetry/operations-publisher.ts: the main queue and `<main>-model`).
    const published = emfLines({
      timestamp: 0,
      mainTaskQueue: mainQueue,
      backlogs: [
        { taskQueue: mainQueue, backlog: 1 },
        { taskQueue: `${mainQueue}-model`, backlog: 0 },
      ],
      counts: { modelCalls: 1, modelCallErrors: 0, workflowTaskFailures: 0 },
    }).flatMap((line) => {
      const parsed = JSON.parse(line) as {
        _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
      } & Record<string, unknown>;
      return parsed._aws.CloudWatchMetrics.flatMap((directive) =>
        directive.Metrics.map((metric) => ({
          namespace: directive.Namespace,
          name: metric.Name,
          dimensions: Object.fromEntries(directive.Dimensions.flat().map((key) => [key, parsed[key]])),
        })),
      );
    });
    const read = metricsRead(synthesized.template.toJSON().Resources);
    expect(new Set(read.map((metric) => metric.name))).toEqual(new Set(Object.values(WORKER_METRIC_NAMES)));
    for (const metric of read) {
      expect(published).toContainEqual({ namespace: metric.namespace, name: metric.name, dimensions: metric.dimensions });
      expect(Object.keys(metric.dimensions)).toEqual([TASK_QUEUE_DIMENSION]);
      // Every task publishes the fleet's backlog (Maximum reads it once); counts are each task's own (Sum adds them up).
      expect(metric.stat).toBe(metric.name === WORKER_METRIC_NAMES.taskQueueBacklog ? 'Maximum' : 'Sum');
    }
    expect(
      read
        .filter((metric) => metric.name === WORKER_METRIC_NAMES.taskQueueBacklog)
        .map((metric) => metric.dimensions[TASK_QUEUE_DIMENSION])
        .sort(),
    ).toEqual([mainQueue, `${mainQueue}-model`].sort());
  });

  it('leaves the collector out when otelCollector is false; the worker still publishes its CloudWatch metrics', () => {
    const without = synthesize({ ...DEPLOYED_CONTEXT, otelCollector: 'false' }, { bundle: false });
    try {
      const definitions = without.template.toJSON().Resources[without.logicalId(without.stack.worker.taskDefinition)].Properties
        .ContainerDefinitions as ContainerDefinition[];
      expect(definitions.map((container) => container.Name)).toEqual([expect.stringMatching(/^Worker/)]);
      const environment = environmentOf(definitions[0]!);
      expect(environment.CLOUDWATCH_METRICS).toBe('true');
      expect(environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
      const statements = Object.values(without.template.findResources('AWS::IAM::Policy')).flatMap(
        (policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown }[],
      );
      expect(statements.flatMap((statement) => [statement.Action].flat())).not.toContain('xray:PutTraceSegments');
    } finally {
      without.dispose();
    }
  });
});
