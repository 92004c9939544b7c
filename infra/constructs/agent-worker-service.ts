import { type CfnResource, Duration, IgnoreMode, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { AppSecretName, DeploymentSecrets } from './deployment-secrets.ts';
import type { TemporalTarget } from './dispatcher.ts';
import { REPOSITORY_ROOT, retentionOf } from './node-lambda.ts';
import type { TranscriptBucket } from './transcript-bucket.ts';
import { acknowledgeWildcardResource } from './acknowledge-wildcard.ts';
import { COLLECTOR_ENDPOINTS, COLLECTOR_MEMORY_MIB, OtelCollector } from './otel-collector.ts';

/** Fargate's longest stop timeout: between SIGTERM and SIGKILL the worker lets its running calls finish. */
const WORKER_STOP_TIMEOUT_SECONDS = 120;

/**
 * The worker's sticky cache for the memory it has (`WORKER_MAX_CACHED_WORKFLOWS`): about 512 MiB
 * for the process itself (Node, the SDK's Core, the bundle; measured by `npm run bench --
 * idle-conversations`), then one cached workflow per 1.5 MiB of the rest (a cached conversation
 * costs 1 to 1.5 MiB there). Never under 50. The SDK's own default follows the V8 heap limit,
 * not the task's memory, and may outgrow a small task.
 */
export function cachedWorkflowsFor(workerMemoryMiB: number): number {
  return Math.max(50, Math.floor((workerMemoryMiB - 512) / 1.5));
}

/** During a rolling deploy the service runs up to this share of its desired count (new tasks start before old ones stop). */
export const WORKER_MAX_HEALTHY_PERCENT = 200;

export interface AgentWorkerServiceProps {
  bucket: TranscriptBucket;
  secrets: DeploymentSecrets;
  temporal: TemporalTarget;
  /** `mtls`: TEMPORAL_TLS_CLIENT_CERT_DATA/KEY_DATA from the Temporal secret; `api-key`: TEMPORAL_API_KEY. @default 'mtls' */
  temporalAuth?: 'mtls' | 'api-key';
  /** App secrets passed as environment variables of the same name (those whose ARN was given). @default GOOGLE_API_KEY, APPROVAL_TOKEN_SECRET, EMAIL_REPLY_TOKEN_SECRET, SLACK_BOT_TOKEN, PAYLOAD_KEYS */
  appSecrets?: AppSecretName[];
  /** Further plain environment variables (no secrets). @default none */
  environment?: Record<string, string>;
  /** The domain (SES identity) replies are sent from; unset allows every identity of the account. @default every identity */
  emailDomain?: string;
  /** SES configuration set of replies (`EMAIL_CONFIGURATION_SET`); unset allows any, as an identity's default set needs authorising too. @default any */
  emailConfigurationSet?: string;
  /** @default 512 (0.5 vCPU) */
  cpu?: number;
  /** @default 1024 */
  memoryLimitMiB?: number;
  /** @default 1 */
  desiredCount?: number;
  /** @default 'arm64' */
  architecture?: 'arm64' | 'x86_64';
  /** An existing VPC; otherwise one with two AZs is created. @default a new VPC */
  vpc?: ec2.IVpc;
  /** NAT gateways of the new VPC. 0 puts tasks in public subnets with a public IP. @default 0 */
  natGateways?: number;
  /** @default false */
  containerInsights?: boolean;
  /** @default 30 */
  logRetentionDays?: number;
  /** An AWS Distro for OpenTelemetry collector beside the worker: spans to X-Ray, Runtime metrics to CloudWatch. @default true */
  otelCollector?: boolean;
  /**
   * Worker Deployment of the workers (`TEMPORAL_DEPLOYMENT_NAME`); each image is a version of it
   * whose build id (`TEMPORAL_BUILD_ID`) is the image's tag. Unset: unversioned workers.
   * @default unversioned
   */
  deploymentName?: string;
  /**
   * Build ids (image tags) of earlier versions whose pinned runs have not finished: each keeps
   * a service of `drainingCount` tasks on its own image while the main service runs the new one.
   * @default none
   */
  drainingBuildIds?: string[];
  /** Tasks of each draining version's service. @default 1 */
  drainingCount?: number;
  /** `TEMPORAL_VERSION_PROMOTION` of versioned workers: whether a new version makes itself current. @default 'first' */
  versionPromotion?: 'first' | 'always' | 'never';
}

/**
 * The agent worker (worker/main.ts) as an ECS Fargate service: the image is built from
 * worker/Dockerfile at deploy time (synth only stages the context), the deployment circuit
 * breaker rolls a failing release back, and tasks get SIGTERM with two minutes to finish
 * their activities before they are killed.
 *
 * Worker versioning (with `deploymentName`): each image is a version of the deployment, its
 * tag the build id. A deploy replaces the main service's tasks; runs pinned to an earlier
 * version finish on that version's own service (`drainingBuildIds`) until it is drained.
 * Routing new runs to the new version is Temporal's (`npm run deployment -- current`).
 *
 * Networking: the worker only dials out (Temporal Cloud on 7233, Gemini, Slack, SES, S3), so
 * by default tasks run in public subnets with a public IP and a security group that admits
 * nothing, which costs nothing; NAT gateways (about 32 USD a month each, plus data) put
 * them in private subnets instead. An S3 gateway endpoint (free) keeps transcript traffic
 * inside the VPC either way.
 */
export class AgentWorkerService extends Construct {
  readonly vpc: ec2.IVpc;
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  readonly logGroup: logs.LogGroup;
  /** The main service's worker container. */
  readonly worker: ecs.ContainerDefinition;
  /** The main service's collector (`otelCollector`). */
  readonly collector: OtelCollector | undefined;
  /** Build id of this deploy's image (its tag): `TEMPORAL_BUILD_ID` of the main service's workers. */
  readonly buildId: string;
  /** One service per draining earlier version (`drainingBuildIds`). */
  readonly drainingServices: ecs.FargateService[];

  constructor(scope: Construct, id: string, props: AgentWorkerServiceProps) {
    super(scope, id);
    const natGateways = props.natGateways ?? 0;
    const arm = (props.architecture ?? 'arm64') === 'arm64';
    const retention = retentionOf(props.logRetentionDays ?? 30);

    this.vpc = props.vpc ?? this.createVpc(natGateways, retention);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: props.containerInsights ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
    });
    if (!props.containerInsights) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-ECS4',
        reason:
          'Container Insights is a paid option (containerInsights=true turns it on); the service logs to CloudWatch and ECS reports CPU and memory without it.',
      });
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention, removalPolicy: RemovalPolicy.DESTROY });
    const image = new DockerImageAsset(this, 'Image', {
      directory: REPOSITORY_ROOT,
      file: 'worker/Dockerfile',
      platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      ignoreMode: IgnoreMode.DOCKER,
    });
    // The image's tag (its content hash) is the build id: a new image is a new version.
    this.buildId = image.imageTag;
    const main = this.workerTask('Task', ecs.ContainerImage.fromDockerImageAsset(image), this.buildId, props, retention);
    this.taskDefinition = main.taskDefinition;
    this.worker = main.worker;
    this.collector = main.collector;

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'Agent worker: outbound only',
      allowAllOutbound: true,
    });
    const publicSubnets = natGateways === 0 && props.vpc === undefined;
    const serviceProps = {
      cluster: this.cluster,
      securityGroups: [securityGroup],
      assignPublicIp: publicSubnets,
      vpcSubnets: { subnetType: publicSubnets ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      circuitBreaker: { enable: true, rollback: true },
      // A new task starts before an old one stops: Temporal spreads work over both.
      minHealthyPercent: 100,
      maxHealthyPercent: WORKER_MAX_HEALTHY_PERCENT,
      enableExecuteCommand: false,
    };
    this.service = new ecs.FargateService(this, 'Service', {
      ...serviceProps,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 1,
    });

    // Earlier versions keep their own image and tasks until their pinned runs end; they start
    // before the main service replaces its tasks, so no version is ever left without a worker.
    this.drainingServices = (props.deploymentName ? (props.drainingBuildIds ?? []) : [])
      .filter((buildId) => buildId !== this.buildId)
      .map((buildId) => {
        const { taskDefinition } = this.workerTask(
          `Draining-${buildId}-Task`,
          ecs.ContainerImage.fromEcrRepository(image.repository, buildId),
          buildId,
          props,
          retention,
        );
        const service = new ecs.FargateService(this, `Draining-${buildId}`, {
          ...serviceProps,
          taskDefinition,
          desiredCount: props.drainingCount ?? 1,
        });
        this.service.node.addDependency(service);
        return service;
      });
  }

  /** The worker's task: its container (and collector), settings and secrets, and the grants of its role. */
  private workerTask(
    id: string,
    image: ecs.ContainerImage,
    buildId: string,
    props: AgentWorkerServiceProps,
    retention: logs.RetentionDays,
  ): { taskDefinition: ecs.FargateTaskDefinition; worker: ecs.ContainerDefinition; collector: OtelCollector | undefined } {
    const arm = (props.architecture ?? 'arm64') === 'arm64';
    const taskDefinition = new ecs.FargateTaskDefinition(this, id, {
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      runtimePlatform: {
        cpuArchitecture: arm ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });

    const temporalSecrets: Record<string, ecs.Secret> =
      (props.temporalAuth ?? 'mtls') === 'mtls'
        ? {
            TEMPORAL_TLS_CLIENT_CERT_DATA: props.secrets.temporalForContainer('tlsCert'),
            TEMPORAL_TLS_CLIENT_KEY_DATA: props.secrets.temporalForContainer('tlsKey'),
          }
        : { TEMPORAL_API_KEY: props.secrets.temporalForContainer('apiKey') };
    const appSecrets = props.secrets.forContainer(
      props.appSecrets ?? ['GOOGLE_API_KEY', 'APPROVAL_TOKEN_SECRET', 'EMAIL_REPLY_TOKEN_SECRET', 'SLACK_BOT_TOKEN', 'PAYLOAD_KEYS'],
    );

    const collecting = props.otelCollector ?? true;
    const worker = taskDefinition.addContainer('Worker', {
      image,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'worker' }),
      environment: {
        TEMPORAL_ADDRESS: props.temporal.address,
        TEMPORAL_NAMESPACE: props.temporal.namespace,
        TEMPORAL_TASK_QUEUE: props.temporal.taskQueue,
        ...(props.deploymentName
          ? {
              TEMPORAL_DEPLOYMENT_NAME: props.deploymentName,
              TEMPORAL_BUILD_ID: buildId,
              TEMPORAL_VERSION_PROMOTION: props.versionPromotion ?? 'first',
            }
          : {}),
        ...props.bucket.transcriptStoreEnvironment(),
        ...(props.emailConfigurationSet ? { EMAIL_CONFIGURATION_SET: props.emailConfigurationSet } : {}),
        // The backlog and counts the stack scales and alarms on, as EMF lines on the log stream.
        CLOUDWATCH_METRICS: 'true',
        // Told to stop, running calls finish; 20 s before ECS's SIGKILL (the stop timeout below).
        WORKER_SHUTDOWN_GRACE_TIME: `${WORKER_STOP_TIMEOUT_SECONDS - 20} seconds`,
        // Idle conversations stay in memory only up to what the task holds; the others replay at their next message.
        WORKER_MAX_CACHED_WORKFLOWS: String(cachedWorkflowsFor((props.memoryLimitMiB ?? 1024) - (collecting ? COLLECTOR_MEMORY_MIB : 0))),
        ...(collecting
          ? { OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR_ENDPOINTS.traces, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: COLLECTOR_ENDPOINTS.metrics }
          : {}),
        ...props.environment,
      },
      secrets: { ...temporalSecrets, ...appSecrets },
      // Fargate's longest: the worker drains its activities on SIGTERM.
      stopTimeout: Duration.seconds(WORKER_STOP_TIMEOUT_SECONDS),
    });
    // The main task's collector keeps the id it had before draining services existed.
    const collector = collecting
      ? new OtelCollector(this, id === 'Task' ? 'Collector' : `${id}-Collector`, {
          taskDefinition,
          worker,
          logGroup: this.logGroup,
          retention,
        })
      : undefined;
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        "The plain environment holds addresses, names, the bucket and the collector's configuration; every secret value comes from Secrets Manager through the container secrets.",
    });

    const taskRole = taskDefinition.taskRole;
    props.bucket.grantTranscriptReadWrite(taskRole);
    props.bucket.grantRawMailRead(taskRole);
    this.grantSendEmail(taskRole, props.emailDomain, props.emailConfigurationSet);
    Validations.of(taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken, which the execution role needs to pull the image, has no resource to scope it to.',
    });
    return { taskDefinition, worker, collector };
  }

  private createVpc(natGateways: number, retention: logs.RetentionDays): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways,
      subnetConfiguration:
        natGateways === 0
          ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }]
          : [
              { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
              { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
            ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      // Nothing uses the default security group; restricting it takes a custom-resource Lambda.
      restrictDefaultSecurityGroup: false,
    });
    // With an account and region, CDK looks the zones up at synth (cached in cdk.context.json)
    // and writes their names, so a later lookup cannot move a subnet; cfn-lint's W3010 asks
    // for Fn::GetAZs instead, which is what an environment-agnostic synth already writes.
    for (const subnet of [...vpc.publicSubnets, ...vpc.privateSubnets]) {
      (subnet.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3010'] } });
    }
    // Rejected traffic only: enough to see what was refused, without paying to log every packet.
    vpc.addFlowLog('RejectedTraffic', {
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', { retention, removalPolicy: RemovalPolicy.DESTROY }),
      ),
    });
    return vpc;
  }

  /** SES v2 SendEmail with raw content is authorised as ses:SendEmail and ses:SendRawEmail. */
  private grantSendEmail(role: iam.IRole, emailDomain: string | undefined, configurationSet: string | undefined): void {
    const stack = Stack.of(this);
    const identities = stack.formatArn({ service: 'ses', resource: 'identity', resourceName: emailDomain ?? '*' });
    const configurationSets = stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: configurationSet ?? '*' });
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['ses:SendEmail', 'ses:SendRawEmail'],
      resourceArns: [identities, configurationSets],
    });
    if (!configurationSet) {
      acknowledgeWildcardResource(
        role,
        configurationSets,
        'No emailConfigurationSet was given: a send through an identity with a default configuration set is authorised against that set too, which the stack does not know; set emailConfigurationSet to narrow it.',
      );
    }
    if (!emailDomain) {
      acknowledgeWildcardResource(
        role,
        identities,
        'No emailDomain was given, so the worker may send as any identity verified in this account and region; set emailDomain to narrow it.',
      );
    }
  }
}
