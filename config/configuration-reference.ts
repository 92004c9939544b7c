import { dispatchSecretArnsSchema, dispatchSettingsSchema, temporalAddressSchema } from './dispatcher-settings.ts';
import { emailEdgeSettingsSchema, emailSecretArnsSchema } from './email-edge-settings.ts';
import { costsCommandSchema, deploymentCommandSchema, schedulesCommandSchema } from './cli-settings.ts';
import { deploymentSettingsSchema, PLACEHOLDER_KEYS } from './infra-settings.ts';
import { AWS_SDK, LAMBDA_SECRETS_READER, pick, TEMPORAL_ENVCONFIG, type VariableSource } from './library-variables.ts';
import {
  pollerSettingsSchema,
  redriveSettingsSchema,
  slackEdgeServerSchema,
  stackSettingsSchema,
  terminalSettingsSchema,
} from './local-settings.ts';
import type { SettingsSchema } from './setting-docs.ts';
import { slackEdgeSettingsSchema, slackQueueEndpointSchema, slackSecretArnsSchema } from './slack-edge-settings.ts';
import {
  agentWorkerSettingsSchema,
  emailReplySettingsSchema,
  slackReplySettingsSchema,
  telemetrySettingsSchema,
  workerConnectionSchema,
  workerVersioningSchema,
} from './worker-settings.ts';
import { transcriptStoreSettingsSchema } from './transcript-store-settings.ts';

/**
 * What the configuration reference (docs/configuration.md, written by `npm run docs`) holds:
 * each deployable, what runs it, and the settings groups it reads, in the order a reader
 * needs them. The rows themselves come from the schemas' fields.
 */

export interface SettingsGroup {
  title: string;
  /** Markdown shown above the table. */
  note?: string;
  schema: SettingsSchema;
}

export interface Deployable {
  title: string;
  /** Markdown: what it is, which entry reads the settings, which command or AWS resource runs it. */
  about: string;
  groups: readonly SettingsGroup[];
  /** Variables a library reads itself. */
  libraries: readonly VariableSource[];
  /** Column heading of the names: `variable`, or `context key` for the CDK app. */
  nameHeading?: string;
  /** Keys whose defaults are placeholders a deploy must replace. */
  placeholders?: readonly string[];
}

const transcripts: SettingsGroup = { title: 'Transcript store', schema: transcriptStoreSettingsSchema };

export const DEPLOYABLES: readonly Deployable[] = [
  {
    title: 'The worker',
    about:
      'Runs the workflows and the activities (model calls, tools, replies). `worker/main.ts` reads these settings once at start (`loadWorkerSettings` in config/worker-settings.ts); it runs as `npm run worker` and, in AWS, as the ECS service of the CDK app, whose task definition sets the variables and injects the secrets. Unlike the local programs, it defaults nothing that reaches the outside world: without a Temporal address, a Gemini key or payload keys it refuses to start.',
    groups: [
      { title: 'Connection', schema: workerConnectionSchema },
      { title: 'Agents', schema: agentWorkerSettingsSchema },
      transcripts,
      { title: 'Slack replies', note: 'Without `SLACK_BOT_TOKEN` the worker answers no Slack thread.', schema: slackReplySettingsSchema },
      {
        title: 'Email replies',
        note: "Without `EMAIL_REPLY_TOKEN_SECRET` the worker answers no email. SES is reached with the AWS SDK's own variables (below).",
        schema: emailReplySettingsSchema,
      },
      { title: 'Traces and metrics', note: 'Nothing is exported unless an endpoint is named.', schema: telemetrySettingsSchema },
      {
        title: 'Worker versioning',
        note: "Set both TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_BUILD_ID (a versioned worker) or neither (unversioned, as locally and in tests). In AWS the stack sets them: the deployment's name, and the image's tag as the build id.",
        schema: workerVersioningSchema,
      },
    ],
    libraries: [TEMPORAL_ENVCONFIG, pick(AWS_SDK, ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SESV2'])],
  },
  {
    title: 'The local programs',
    about:
      "`npm start` (the whole stack and its console), `npm run chat` and `npm run ask` read these once at start (`loadTerminalSettings` and `loadStackSettings` in config/local-settings.ts). They also read the worker's [Agents](#worker-agents), [Transcript store](#worker-transcript-store), [Slack replies](#worker-slack-replies) and [Email replies](#worker-email-replies) settings, with the same defaults, except that `npm start` keeps the transcripts under `$DATA_DIR/transcripts`. Unlike the worker they default what is missing: no `TEMPORAL_ADDRESS` starts a Temporal dev server, no `GOOGLE_API_KEY` the offline model, and no `PAYLOAD_KEYS` uses `$DATA_DIR/payload-keys.json`, made on first start.",
    groups: [
      { title: 'Every local program', schema: terminalSettingsSchema },
      { title: '`npm start` only', schema: stackSettingsSchema },
    ],
    libraries: [TEMPORAL_ENVCONFIG],
  },
  {
    title: 'The Slack edge',
    about:
      "Checks Slack's requests and queues them. In AWS it is the Slack Lambda (`functions/slack/handler.ts`, behind a function URL), which reads these settings at cold start (`loadSlackLambdaSettings` in config/slack-edge-settings.ts); a missing or bad one stops the function before it accepts anything, since an edge that cannot verify requests must not accept any. Locally `npm run ingress` serves the same app on a port, with the secrets' values in the environment instead of their ARNs.",
    groups: [
      { title: 'The edge', schema: slackEdgeSettingsSchema },
      {
        title: 'Secrets (Lambda)',
        note: 'In AWS the configuration holds no secret: it names the Secrets Manager secrets, which the function reads at cold start.',
        schema: slackSecretArnsSchema,
      },
      {
        title: 'Queue endpoint',
        note: 'SendMessage is a SigV4-signed `fetch`, not the SDK, for a fast cold start.',
        schema: slackQueueEndpointSchema,
      },
      { title: '`npm run ingress` only', schema: slackEdgeServerSchema },
    ],
    libraries: [LAMBDA_SECRETS_READER],
  },
  {
    title: 'The email edge',
    about:
      'Checks inbound mail (SES → S3 → SNS → SQS) and queues it. It is the email Lambda (`functions/email/handler.ts`), which reads these settings at cold start (`loadEmailLambdaSettings` in config/email-edge-settings.ts); attachments go into the transcript store the worker reads, so it takes the same `TRANSCRIPT_*` settings.',
    groups: [
      { title: 'The edge', schema: emailEdgeSettingsSchema },
      {
        title: 'Secrets (Lambda)',
        note: 'In AWS the configuration names the secret, which the function reads at cold start.',
        schema: emailSecretArnsSchema,
      },
      transcripts,
    ],
    libraries: [pick(AWS_SDK, ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SQS']), LAMBDA_SECRETS_READER],
  },
  {
    title: 'The dispatcher',
    about:
      "Takes the queued events and starts or updates the conversation workflows. In AWS it is the dispatcher Lambda (`functions/dispatch/handler.ts`, fed by the queue's event source mapping), which reads these settings at cold start (`loadDispatchSettings` in config/dispatcher-settings.ts). Locally `npm run dispatch` runs the same handler from a long-poll loop, and `npm run dispatch:redrive` moves messages from the dead-letter queue back.",
    groups: [
      { title: 'The dispatcher', schema: dispatchSettingsSchema },
      {
        title: 'Temporal',
        note: "Checked here only so that a dispatcher without an address refuses to start instead of dialling envconfig's default, `localhost:7233` (`npm run dispatch` does dial it).",
        schema: temporalAddressSchema,
      },
      { title: 'Secrets (Lambda)', schema: dispatchSecretArnsSchema },
      { title: '`npm run dispatch` only', schema: pollerSettingsSchema },
      { title: '`npm run dispatch:redrive` only', schema: redriveSettingsSchema },
    ],
    libraries: [TEMPORAL_ENVCONFIG, LAMBDA_SECRETS_READER, pick(AWS_SDK, ['AWS_ENDPOINT_URL_SQS'])],
  },
  {
    title: 'The command-line tools',
    about:
      "`npm run schedules` (the ambient agents' schedules), `npm run deployment` (worker versions) and `npm run costs` (what the runs spent) reach a running Temporal, local or deployed; each reads its settings once at start (config/cli-settings.ts). A missing or bad setting is one line and exit code 2, an unreachable server one line and exit code 1.",
    groups: [
      { title: '`npm run schedules`', schema: schedulesCommandSchema },
      { title: '`npm run deployment`', schema: deploymentCommandSchema },
      { title: '`npm run costs`', schema: costsCommandSchema },
    ],
    libraries: [TEMPORAL_ENVCONFIG],
  },
  {
    title: 'The CDK app',
    about:
      "Provisions everything in AWS (`npm run synth`, `npx cdk deploy`). Its settings are CDK context, not environment variables: `cdk.json`'s `context` or `-c key=value`, read by `parseDeploymentSettings` in config/infra-settings.ts. Every key has a default so that `cdk synth` works offline with none set; the keys whose default is a placeholder must be set for a deploy that works, and the app warns while they are not (`cdk deploy --strict` fails). It sets the deployables' variables above from these.",
    groups: [{ title: 'Context keys', schema: deploymentSettingsSchema }],
    libraries: [],
    nameHeading: 'context key',
    placeholders: PLACEHOLDER_KEYS,
  },
];
