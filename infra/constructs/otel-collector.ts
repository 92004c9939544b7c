import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './acknowledge-wildcard.ts';

/** AWS Distro for OpenTelemetry collector, pinned: a new release is a reviewed change. */
export const ADOT_COLLECTOR_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.45.1';

/** Where the worker sends its telemetry: the sidecar shares the task's network namespace. */
/** The collector's hard memory limit, taken from the task's: the worker has the rest. */
export const COLLECTOR_MEMORY_MIB = 256;

export const COLLECTOR_ENDPOINTS = {
  /** OTLP/HTTP: the worker's spans (`OTEL_EXPORTER_OTLP_ENDPOINT`, `{url}/v1/traces`). */
  traces: 'http://localhost:4318',
  /** OTLP/gRPC: the Runtime's metrics (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`). */
  metrics: 'http://localhost:4317',
} as const;

/** CloudWatch namespace of the worker's Runtime metrics (`temporal_*`, `agent_*`), apart from the stack's contract namespace. */
export const RUNTIME_METRICS_NAMESPACE = 'DurableAgents/Worker';

/**
 * Which Runtime metrics become CloudWatch metrics, and by which labels. Everything else the
 * collector receives is still written to the metrics log group (queryable with Logs
 * Insights) but costs no custom metric. Labels are names (agent, model, tool, outcome), never content.
 */
export const COLLECTOR_METRIC_DECLARATIONS = [
  { dimensions: [['agent', 'model', 'outcome']], metric_name_selectors: ['^agent_model_calls$'] },
  { dimensions: [['agent', 'model', 'kind']], metric_name_selectors: ['^agent_model_tokens$'] },
  { dimensions: [['agent', 'model']], metric_name_selectors: ['^agent_model_call_duration$'] },
  { dimensions: [['tool', 'outcome']], metric_name_selectors: ['^agent_tool_calls$', '^agent_tool_duration$'] },
  { dimensions: [['tool']], metric_name_selectors: ['^agent_tool_failures$'] },
  { dimensions: [['agent', 'taskQueue']], metric_name_selectors: ['^agent_approvals_waiting$', '^agent_approval_oldest_wait$'] },
  { dimensions: [['agent', 'outcome']], metric_name_selectors: ['^agent_approval_wait$', '^agent_ambient_runs$'] },
  {
    dimensions: [['task_queue']],
    metric_name_selectors: ['^temporal_workflow_task_schedule_to_start_latency$', '^temporal_activity_schedule_to_start_latency$'],
  },
];

export interface OtelCollectorProps {
  taskDefinition: ecs.FargateTaskDefinition;
  /** The worker's container: it starts after the collector and sends to it. */
  worker: ecs.ContainerDefinition;
  /** The log group of the collector's own log lines (the worker's). */
  logGroup: logs.ILogGroup;
  /** Retention of the metrics log group the awsemf exporter writes. */
  retention: logs.RetentionDays;
}

/**
 * An AWS Distro for OpenTelemetry collector beside the worker, in the same task: OTLP in on
 * localhost (4317 gRPC, 4318 HTTP); spans out to X-Ray (awsxray), metrics out as CloudWatch
 * EMF (awsemf) into a log group of its own. Its config travels in `AOT_CONFIG_CONTENT`, which
 * ADOT reads in place of a file. It is not essential: a collector that dies loses telemetry,
 * never the worker.
 *
 * Trace ids: the Slack edge makes W3C trace ids by hand (random, no timestamp in the first 32
 * bits), so the awsxray exporter runs with `exporter.awsxray.skiptimestampvalidation` (beta,
 * on by default since v0.84 of the exporter; named to keep it so).
 */
export class OtelCollector extends Construct {
  readonly container: ecs.ContainerDefinition;
  readonly metricsLogGroup: logs.LogGroup;
  readonly config: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: OtelCollectorProps) {
    super(scope, id);
    this.metricsLogGroup = new logs.LogGroup(this, 'MetricLogs', { retention: props.retention, removalPolicy: RemovalPolicy.DESTROY });
    this.config = collectorConfig(this.metricsLogGroup.logGroupName);

    this.container = props.taskDefinition.addContainer('Collector', {
      image: ecs.ContainerImage.fromRegistry(ADOT_COLLECTOR_IMAGE),
      essential: false,
      memoryLimitMiB: COLLECTOR_MEMORY_MIB,
      command: ['--feature-gates=exporter.awsxray.skiptimestampvalidation'],
      // JSON is YAML: the config as CloudFormation resolves it (the log group's name, the region).
      environment: { AOT_CONFIG_CONTENT: Stack.of(this).toJsonString(this.config) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: 'otel' }),
      // The image has no shell: exec form.
      healthCheck: { command: ['CMD', '/healthcheck'] },
    });
    props.worker.addContainerDependencies({ container: this.container, condition: ecs.ContainerDependencyCondition.START });

    const taskRole = props.taskDefinition.taskRole;
    // awsemf writes its EMF events into its own group: a stream per task, then the events.
    this.metricsLogGroup.grant(taskRole, 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams');
    // X-Ray's PutTraceSegments has no resource to scope it to.
    iam.Grant.addToPrincipal({ grantee: taskRole, actions: ['xray:PutTraceSegments'], resourceArns: ['*'] });
    acknowledgeWildcardResource(
      taskRole,
      '*',
      "xray:PutTraceSegments, with which the OpenTelemetry collector sends the worker's spans to X-Ray, has no resource-level permissions.",
    );
  }
}

/** The collector's configuration: OTLP in, X-Ray and CloudWatch EMF out. */
function collectorConfig(metricsLogGroupName: string): Record<string, unknown> {
  return {
    extensions: { health_check: {} },
    receivers: {
      otlp: { protocols: { grpc: { endpoint: '127.0.0.1:4317' }, http: { endpoint: '127.0.0.1:4318' } } },
    },
    processors: {
      memory_limiter: { check_interval: '1s', limit_mib: 200 },
      resourcedetection: { detectors: ['env', 'ecs'], timeout: '2s', override: false },
      'batch/traces': { timeout: '1s', send_batch_size: 50 },
      'batch/metrics': { timeout: '60s' },
    },
    exporters: {
      awsxray: { region: Aws.REGION },
      awsemf: {
        region: Aws.REGION,
        namespace: RUNTIME_METRICS_NAMESPACE,
        log_group_name: metricsLogGroupName,
        log_stream_name: 'worker-{TaskId}',
        dimension_rollup_option: 'NoDimensionRollup',
        metric_declarations: COLLECTOR_METRIC_DECLARATIONS,
      },
    },
    service: {
      extensions: ['health_check'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['memory_limiter', 'resourcedetection', 'batch/traces'], exporters: ['awsxray'] },
        metrics: { receivers: ['otlp'], processors: ['memory_limiter', 'resourcedetection', 'batch/metrics'], exporters: ['awsemf'] },
      },
    },
  };
}
