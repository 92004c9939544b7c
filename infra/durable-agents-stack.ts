import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AgentWorkerService, WORKER_MAX_HEALTHY_PERCENT } from './constructs/agent-worker-service.ts';
import { DeploymentSecrets } from './constructs/deployment-secrets.ts';
import { Dispatcher } from './constructs/dispatcher.ts';
import { EmailIngress } from './constructs/email-ingress.ts';
import { IngressQueue } from './constructs/ingress-queue.ts';
import { OperationsAlarms } from './constructs/operations-alarms.ts';
import { SlackIngress } from './constructs/slack-ingress.ts';
import { TranscriptBucket } from './constructs/transcript-bucket.ts';
import { WorkerScaling } from './constructs/worker-scaling.ts';
import { placeholdersInUse, type DeploymentSettings } from '../config/infra-settings.ts';
import { readFileSync } from 'node:fs';
import type { SuggestedPrompt } from '../authoring/suggested-prompts.ts';
import { slackManifestTemplate } from '../slack/slack-manifest.ts';

export interface DurableAgentsStackProps extends StackProps {
  settings: DeploymentSettings;
}

/** Slack and email in, the FIFO queue, the dispatcher, the worker and its bucket, its scaling and the alarms: composed, nothing more. */
export class DurableAgentsStack extends Stack {
  readonly bucket: TranscriptBucket;
  readonly ingressQueue: IngressQueue;
  readonly secrets: DeploymentSecrets;
  readonly slackIngress: SlackIngress;
  readonly emailIngress: EmailIngress;
  readonly dispatcher: Dispatcher;
  readonly worker: AgentWorkerService;
  readonly workerScaling: WorkerScaling;
  readonly alarms: OperationsAlarms;

  constructor(scope: Construct, id: string, props: DurableAgentsStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const temporal = { address: settings.temporalAddress, namespace: settings.temporalNamespace, taskQueue: settings.temporalTaskQueue };
    const logRetentionDays = settings.logRetentionDays;

    this.bucket = new TranscriptBucket(this, 'Transcripts', { rawMailExpirationDays: settings.rawMailExpirationDays });
    this.ingressQueue = new IngressQueue(this, 'Ingress', { maxReceiveCount: settings.maxReceiveCount });
    this.secrets = new DeploymentSecrets(this, 'Secrets', {
      temporalSecretArn: settings.temporalSecretArn,
      appSecretArns: {
        SLACK_SIGNING_SECRET: settings.slackSigningSecretArn,
        APPROVAL_TOKEN_SECRET: settings.approvalTokenSecretArn,
        EMAIL_REPLY_TOKEN_SECRET: settings.emailReplyTokenSecretArn,
        GOOGLE_API_KEY: settings.googleApiKeySecretArn,
        PAYLOAD_KEYS: settings.payloadKeysSecretArn,
        ...(settings.slackBotTokenSecretArn ? { SLACK_BOT_TOKEN: settings.slackBotTokenSecretArn } : {}),
      },
    });

    this.slackIngress = new SlackIngress(this, 'Slack', {
      queue: this.ingressQueue,
      secrets: this.secrets,
      defaultAgent: settings.slackDefaultAgent,
      ...(settings.slackBotUserId ? { botUserId: settings.slackBotUserId } : {}),
      // The DM's prompts are the manifest's unless the deployment names others.
      suggestedPrompts: settings.slackSuggestedPrompts ?? manifestPrompts(),
      reservedConcurrency: settings.slackReservedConcurrency,
      logRetentionDays,
    });
    const recipients = settings.emailRecipients ?? [settings.emailDomain];
    this.emailIngress = new EmailIngress(this, 'Email', {
      bucket: this.bucket,
      queue: this.ingressQueue,
      secrets: this.secrets,
      allowedSenders: settings.emailAllowedSenders,
      recipients,
      ...(settings.sesRuleSetName ? { ruleSetName: settings.sesRuleSetName } : {}),
      maxReceiveCount: settings.maxReceiveCount,
      logRetentionDays,
    });
    this.dispatcher = new Dispatcher(this, 'Dispatch', {
      queue: this.ingressQueue,
      secrets: this.secrets,
      temporal,
      defaultAgent: settings.slackDefaultAgent,
      emailAgentDomain: settings.emailDomain,
      ...(settings.dispatchAgents ? { agents: settings.dispatchAgents } : {}),
      logRetentionDays,
    });
    this.worker = new AgentWorkerService(this, 'Worker', {
      bucket: this.bucket,
      secrets: this.secrets,
      temporal,
      temporalAuth: settings.temporalAuth,
      emailDomain: settings.emailDomain,
      ...(settings.emailConfigurationSet ? { emailConfigurationSet: settings.emailConfigurationSet } : {}),
      // Each worker's share of MODEL_CALLS_PER_SECOND is that limit ÷ the most workers that can
      // run at once: scaling's maximum, doubled while a rolling deploy overlaps old and new tasks.
      environment: {
        WORKER_MAX_COUNT: String(Math.ceil((settings.workerMaxCount * WORKER_MAX_HEALTHY_PERCENT) / 100)),
        // Ambient runs email from <agent>@<emailDomain>, as replies do.
        EMAIL_AGENT_DOMAIN: settings.emailDomain,
        ...settings.workerEnvironment,
      },
      cpu: settings.workerCpu,
      memoryLimitMiB: settings.workerMemoryMiB,
      desiredCount: settings.workerDesiredCount,
      architecture: settings.workerArchitecture,
      natGateways: settings.natGateways,
      containerInsights: settings.containerInsights,
      otelCollector: settings.otelCollector,
      logRetentionDays,
      ...(settings.workerDeploymentName
        ? {
            deploymentName: settings.workerDeploymentName,
            drainingBuildIds: settings.workerDrainingBuildIds,
            versionPromotion: settings.workerVersionPromotion,
          }
        : {}),
    });
    this.workerScaling = new WorkerScaling(this, 'WorkerScaling', {
      service: this.worker.service,
      // The worker polls the main queue and the model calls' queue (worker/create-worker.ts).
      taskQueues: [settings.temporalTaskQueue, `${settings.temporalTaskQueue}-model`],
      minCapacity: settings.workerMinCount,
      maxCapacity: settings.workerMaxCount,
      scaleOutBacklog: settings.workerScaleOutBacklog,
      cpuTargetPercent: settings.workerCpuTargetPercent,
    });
    this.alarms = new OperationsAlarms(this, 'Alarms', {
      deadLetterQueues: { Ingress: this.ingressQueue.deadLetterQueue, Email: this.emailIngress.deadLetterQueue },
      dispatcher: this.dispatcher.function,
      functions: { Slack: this.slackIngress.function, Email: this.emailIngress.function, Dispatch: this.dispatcher.function },
      taskQueue: settings.temporalTaskQueue,
      modelErrorRatePercent: settings.modelErrorRatePercent,
      ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
    });

    // What a deploy prints: [id, value, what it is for].
    const outputs: [string, string, string?][] = [
      ['SlackRequestUrl', this.slackIngress.functionUrl.url, 'Request URL for Slack events, interactivity and slash commands'],
      ['IngressQueueUrl', this.ingressQueue.queue.queueUrl, 'SQS FIFO queue: ingress → dispatcher'],
      ['IngressDeadLetterQueueUrl', this.ingressQueue.deadLetterQueue.queueUrl, 'Events the dispatcher could not deliver'],
      ['EmailQueueUrl', this.emailIngress.notificationQueue.queueUrl, 'SES notifications → email ingress'],
      ['EmailDeadLetterQueueUrl', this.emailIngress.deadLetterQueue.queueUrl, 'SES notifications the email ingress could not process'],
      [
        'ReceiptRuleSetName',
        this.emailIngress.ruleSet.receiptRuleSetName,
        'Activate once: aws ses set-active-receipt-rule-set --rule-set-name <this>',
      ],
      ['TranscriptBucketName', this.bucket.bucket.bucketName],
      ['WorkerLogGroup', this.worker.logGroup.logGroupName],
      ...(settings.workerDeploymentName
        ? ([
            ['WorkerDeploymentName', settings.workerDeploymentName, 'Worker Deployment of the workers (TEMPORAL_DEPLOYMENT_NAME)'],
            [
              'WorkerBuildId',
              this.worker.buildId,
              "Build id of this deploy's worker image; make it current: npm run deployment -- current --outputs <cdk outputs file>",
            ],
          ] satisfies [string, string, string][])
        : []),
      ['AlarmTopicArn', this.alarms.topic.topicArn, 'SNS topic every alarm notifies; subscribe to it (or set alarmEmail)'],
    ];
    for (const [id, value, description] of outputs) new CfnOutput(this, id, description ? { value, description } : { value });

    const placeholders = placeholdersInUse(settings);
    if (placeholders.length > 0) {
      Annotations.of(this).addWarningV2(
        'durable-agents:placeholder-settings',
        `Placeholder settings in use (${placeholders.join(', ')}): the stack synthesises but cannot work when deployed. Set them with -c key=value or in cdk.json.`,
      );
    }
  }
}

/** The `agent_view` suggested prompts of slack/manifest.json, which the edge sets when a person opens the agent's DM. */
function manifestPrompts(): SuggestedPrompt[] {
  const manifest = slackManifestTemplate(JSON.parse(readFileSync(new URL('../slack/manifest.json', import.meta.url), 'utf8')));
  return manifest.features.agent_view?.suggested_prompts ?? [];
}
