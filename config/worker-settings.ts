import type { WorkerDeploymentVersion } from '@temporalio/common';
import * as z from 'zod';
import { duration, flag, loadSettingGroups, optionalText, optionalUrl, requiredText, type Environment } from './load-settings.ts';
import { modelRefusal } from '../core/models.ts';
import { payloadKeysSetting } from '../temporal-client/payload-encryption.ts';
import { transcriptStoreSettingsSchema, type TranscriptStoreSettings } from './transcript-store-settings.ts';

/**
 * Settings of the worker container (`worker/main.ts`), read once from its environment and
 * validated with zod; a missing or bad value names the variable. Temporal's connection
 * (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_TLS_*`, `TEMPORAL_API_KEY`, …) is read
 * by `@temporalio/envconfig`, as the Temporal CLI reads it; the address is required here so a
 * worker without one refuses to start. `npm run docs` writes docs/configuration.md from these schemas.
 */

/** What the agents and their runs need, wherever the worker runs (the container, or `npm start`). */
export const agentWorkerSettingsSchema = z
  .object({
    GEMINI_BASE_URL: optionalUrl('GEMINI_BASE_URL').meta({
      description: 'Gemini API base URL (the local stand-in, in tests).',
      unset: "Google's",
    }),
    GEMINI_MODEL: optionalText
      .refine((model) => model === undefined || !modelRefusal(model, Date.now(), 'GEMINI_MODEL'), {
        error: (issue) => modelRefusal(String(issue.input), Date.now(), 'GEMINI_MODEL') ?? 'GEMINI_MODEL names a model that was shut down',
      })
      .meta({
        description: "Overrides every agent's model id; a model that was shut down (core/models.ts) is refused.",
        unset: "each agent's own",
      }),
    TEMPORAL_TASK_QUEUE: z
      .string()
      .trim()
      .min(1)
      .default('agents')
      .meta({ description: 'Task queue of conversations and agent runs; model calls use `<queue>-model`.' }),
    MODEL_CALLS_PER_SECOND: z
      .preprocess(
        (value) => (value === '' ? undefined : value),
        z.coerce
          .number({ message: 'MODEL_CALLS_PER_SECOND must be a number' })
          .positive({ message: 'MODEL_CALLS_PER_SECOND must be above zero' })
          .optional(),
      )
      .meta({
        description: 'Model calls started per second across every worker; each process takes MODEL_CALLS_PER_SECOND ÷ WORKER_MAX_COUNT.',
        unset: 'unlimited',
      }),
    WORKER_MAX_COUNT: z
      .preprocess(
        (value) => (value === '' ? undefined : value),
        z.coerce
          .number({ message: 'WORKER_MAX_COUNT must be a whole number' })
          .int({ message: 'WORKER_MAX_COUNT must be a whole number' })
          .positive({ message: 'WORKER_MAX_COUNT must be above zero' })
          .optional(),
      )
      .meta({
        description: 'The most worker processes the deployment runs at once (the CDK app sets its scaling maximum).',
        requiredWhen: 'with MODEL_CALLS_PER_SECOND',
      }),
    WORKER_MAX_CACHED_WORKFLOWS: z
      .preprocess(
        (value) => (value === '' ? undefined : value),
        z.coerce
          .number({ message: 'WORKER_MAX_CACHED_WORKFLOWS must be a whole number' })
          .int({ message: 'WORKER_MAX_CACHED_WORKFLOWS must be a whole number' })
          // 1 the SDK would quietly raise to 2; 0 (no cache) leaves a conversation's next message unanswered (SDK 1.24).
          .min(2, {
            message: 'WORKER_MAX_CACHED_WORKFLOWS must be at least 2 (with no cache, 0, a conversation never answers its next message)',
          })
          .optional(),
      )
      .meta({
        description:
          "How many workflows (conversations, agent runs) a worker process keeps in memory between their tasks (Temporal's sticky cache); the least recently used one past it is evicted and replayed from its history at its next task. Below 200 it also lowers the workflow tasks that run at once in the process (each model call of a run holds one) to its size. At least 2: turned off (0), the cache leaves a conversation's later messages unanswered. The CDK app sets it from the task's memory.",
        unset: "the SDK's, from the V8 heap limit (about 2,300 with a 4 GiB heap)",
      }),
    DOCS_DIR: optionalText.meta({ description: 'Markdown folder the `search_docs` tool reads.', unset: '`agents/docs`' }),
    NWS_BASE_URL: optionalUrl('NWS_BASE_URL').meta({
      description: 'National Weather Service API (the `get_weather_alerts` tool).',
      unset: '`https://api.weather.gov`',
    }),
    IP_API_BASE_URL: optionalUrl('IP_API_BASE_URL').meta({
      description: 'ip-api.com-compatible API (the `get_ip_location` tool).',
      unset: '`http://ip-api.com`',
    }),
    EMAIL_AGENT_DOMAIN: optionalText.meta({
      description: "Domain of the agents' own addresses (`<agent>@<domain>`): where ambient runs' emails come from.",
    }),
    CONVERSATION_IDLE_TIMEOUT: duration('CONVERSATION_IDLE_TIMEOUT', '24 hours').meta({
      description: 'A conversation with no message for this long completes; its next message resumes it.',
    }),
    APPROVAL_TIMEOUT: duration('APPROVAL_TIMEOUT', '1 hour').meta({
      description: 'How long a person has to decide on a tool call whose tool and agent set no timeout; then it is denied.',
    }),
    SCHEDULES_SYNC_AT_START: flag(true).meta({
      description:
        "Make Temporal's schedules match the agents' triggers when the worker starts (`false` when the deploy runs `npm run schedules -- sync`).",
    }),
    AGENTS_DEPLOYMENT: optionalText
      .pipe(
        z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, { message: "AGENTS_DEPLOYMENT is letters, digits, '.', '_' and '-', at most 100" })
          .optional(),
      )
      .meta({
        description:
          "This installation's name in the Temporal namespace: its schedules' ids (`ambient:<deployment>:<agent>:<trigger>`) and memos carry it, so installations sharing a namespace never touch each other's schedules. Letters, digits, '.', '_', '-'.",
        unset: 'the task queue',
      }),
  })
  .refine((settings) => !settings.MODEL_CALLS_PER_SECOND || settings.WORKER_MAX_COUNT, {
    message:
      'WORKER_MAX_COUNT is not set: MODEL_CALLS_PER_SECOND is shared by every worker process, each taking MODEL_CALLS_PER_SECOND ÷ WORKER_MAX_COUNT (the CDK app sets it to its scaling maximum)',
    path: ['WORKER_MAX_COUNT'],
  });

export type AgentWorkerSettings = z.infer<typeof agentWorkerSettingsSchema>;

/** Slack replies; without `SLACK_BOT_TOKEN` the worker answers no Slack thread. */
export const slackReplySettingsSchema = z
  .object({
    SLACK_BOT_TOKEN: optionalText.meta({ description: 'The bot token (`xoxb-…`) replies are posted with.', unset: 'no Slack replies' }),
    SLACK_API_URL: optionalText.pipe(z.url({ message: 'SLACK_API_URL must be a URL such as http://127.0.0.1:3000/api/' }).optional()).meta({
      description: 'Base URL of the Slack Web API (a local stand-in: `http://127.0.0.1:PORT/api/`).',
      unset: '`https://slack.com/api/`',
    }),
    APPROVAL_TOKEN_SECRET: optionalText.meta({
      description: 'Signs the approval buttons; the Slack edge and the dispatcher check it.',
      requiredWhen: 'with SLACK_BOT_TOKEN',
    }),
    SLACK_STATUS_INTERVAL_MS: z.coerce
      .number({ message: 'SLACK_STATUS_INTERVAL_MS must be a number of milliseconds' })
      .int()
      .nonnegative()
      .default(1000)
      .meta({ description: 'Least time between two edits of one status message, in milliseconds.' }),
  })
  .refine((settings) => !settings.SLACK_BOT_TOKEN || settings.APPROVAL_TOKEN_SECRET, {
    message: 'APPROVAL_TOKEN_SECRET is not set: Slack replies sign approval buttons with it (the same secret as the Slack edge)',
    path: ['APPROVAL_TOKEN_SECRET'],
  });

export type SlackReplySettings = z.infer<typeof slackReplySettingsSchema>;

/**
 * Email replies; without `EMAIL_REPLY_TOKEN_SECRET` the worker answers no email. SES is
 * reached with the SDK's usual settings (`AWS_REGION`, `AWS_ENDPOINT_URL_SESV2` for a local
 * stand-in), which the SDK reads itself.
 */
export const emailReplySettingsSchema = z
  .object({
    EMAIL_REPLY_TOKEN_SECRET: optionalText.meta({
      description: 'Signs the Reply-To plus-address; the email edge checks it.',
      unset: 'no email replies',
    }),
    APPROVAL_TOKEN_SECRET: optionalText.meta({
      description: 'Makes the approval codes of email approval requests; the dispatcher checks them.',
      requiredWhen: 'with EMAIL_REPLY_TOKEN_SECRET',
    }),
    EMAIL_CONFIGURATION_SET: optionalText.meta({ description: 'SES configuration set replies are sent with.', unset: 'none' }),
  })
  .refine((settings) => !settings.EMAIL_REPLY_TOKEN_SECRET || settings.APPROVAL_TOKEN_SECRET, {
    message: 'APPROVAL_TOKEN_SECRET is not set: email approval requests carry a code made with it (the same secret as the dispatcher)',
    path: ['APPROVAL_TOKEN_SECRET'],
  });

export type EmailReplySettings = z.infer<typeof emailReplySettingsSchema>;

/** What the container needs that a local program may default: a real Temporal and a real Gemini. */
export const workerConnectionSchema = z.object({
  TEMPORAL_ADDRESS: requiredText(
    'TEMPORAL_ADDRESS',
    'the Temporal frontend, e.g. my-namespace.a1b2c.tmprl.cloud:7233 (TLS and API key as the Temporal CLI reads them)',
  ).meta({
    description:
      'The Temporal frontend, e.g. `my-namespace.a1b2c.tmprl.cloud:7233`; the rest of the connection is read by `@temporalio/envconfig` (below). Required here so that a worker without one refuses to start rather than dial localhost.',
  }),
  GOOGLE_API_KEY: requiredText('GOOGLE_API_KEY', 'the Gemini API key the model activities call Gemini with').meta({
    description: 'The Gemini API key the model activities call Gemini with (in AWS, a secret ECS injects).',
  }),
  PAYLOAD_KEYS: payloadKeysSetting('PAYLOAD_KEYS').meta({
    description:
      'The keys payloads are encrypted with, JSON `{ "keys": [{ "id": "…", "key": "<32 bytes in base64>" }] }`, newest first: the first encrypts, all decrypt ([security](security.md)). The CDK app injects the PAYLOAD_KEYS secret; never a value in configuration.',
  }),
  WORKER_SHUTDOWN_GRACE_TIME: duration('WORKER_SHUTDOWN_GRACE_TIME', '100 seconds').meta({
    description:
      "How long the container, told to stop (SIGTERM: a deploy, a scale-in), lets its running tool and model calls finish before it cancels them (they then run again elsewhere). Keep it under the task's stop timeout (120 s in the CDK app).",
  }),
  WORKFLOW_BUNDLE_PATH: optionalText.meta({
    description:
      'The workflow bundle built with the image (`npm run build:workflows`, which replays the recorded histories with it first); the image sets it.',
    unset: 'the worker bundles workflows/ at start',
  }),
});

/** Traces and metrics. Nothing is exported unless an endpoint is named. */
export const telemetrySettingsSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl('OTEL_EXPORTER_OTLP_ENDPOINT').meta({
    description: 'OTLP/HTTP collector for spans (`{url}/v1/traces`).',
    unset: 'nothing traced',
  }),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: optionalUrl('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT').meta({
    description:
      "OTLP (gRPC) collector for the SDK's and the agents' metrics, e.g. `http://127.0.0.1:4317` (in AWS, the collector beside the worker).",
    unset: 'none',
  }),
  METRICS_PROMETHEUS_BIND: optionalText
    .pipe(
      z
        .string()
        .regex(/^[^\s:]+:\d{1,5}$/, { message: 'METRICS_PROMETHEUS_BIND must be host:port, e.g. 127.0.0.1:9464' })
        .optional(),
    )
    .meta({ description: '`host:port` of a Prometheus scrape endpoint for the same metrics, e.g. `127.0.0.1:9464`.', unset: 'none' }),
  CLOUDWATCH_METRICS: flag(false).meta({
    description:
      'Write the metrics the CDK app scales and alarms on (task queue backlogs, workflow task failures, model calls and their errors) to stdout as CloudWatch Embedded Metric Format, which the ECS log driver ships to CloudWatch. The CDK app turns it on.',
  }),
  OPERATIONS_METRICS_INTERVAL: duration('OPERATIONS_METRICS_INTERVAL', '30 seconds').meta({
    description: 'How often the backlogs, the approvals waiting and the counts are read and published.',
  }),
});

export type TelemetrySettings = z.infer<typeof telemetrySettingsSchema>;

/**
 * Worker versioning: set both (a versioned worker) or neither (unversioned, as locally and in
 * tests). In AWS the stack sets them: the deployment's name, and the image's tag as the build id.
 */
export const workerVersioningSchema = z
  .object({
    TEMPORAL_DEPLOYMENT_NAME: optionalText
      .pipe(
        z
          .string()
          .regex(/^[^.\s]+$/, {
            message: 'TEMPORAL_DEPLOYMENT_NAME may not contain dots or spaces (Temporal writes a version as <deployment>.<build id>)',
          })
          .optional(),
      )
      .meta({
        description: 'Worker Deployment the worker belongs to, e.g. `durable-agents`; no dots or spaces.',
        unset: 'unversioned',
        requiredWhen: 'with TEMPORAL_BUILD_ID',
      }),
    TEMPORAL_BUILD_ID: optionalText.pipe(z.string().max(255, { message: 'TEMPORAL_BUILD_ID is at most 255 characters' }).optional()).meta({
      description: "Build id of the worker's code: the image tag.",
      unset: 'unversioned',
      requiredWhen: 'with TEMPORAL_DEPLOYMENT_NAME',
    }),
    TEMPORAL_VERSION_PROMOTION: z
      .enum(['first', 'always', 'never'], { message: 'TEMPORAL_VERSION_PROMOTION is first, always or never' })
      .default('first')
      .meta({
        description:
          'What a versioned worker does with its version once it polls: `first` makes it current only when the deployment has no current version; `always` makes it current (the deploy switches new runs over); `never` leaves it to `npm run deployment`.',
      }),
  })
  .refine((settings) => !settings.TEMPORAL_DEPLOYMENT_NAME === !settings.TEMPORAL_BUILD_ID, {
    message: 'TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_BUILD_ID go together: set both for a versioned worker, or neither',
    path: ['TEMPORAL_BUILD_ID'],
  });

export type WorkerVersioningSettings = z.infer<typeof workerVersioningSchema>;

/** The Worker Deployment Version the settings name, if any. */
export function deploymentVersionOf(settings: WorkerVersioningSettings): WorkerDeploymentVersion | undefined {
  const { TEMPORAL_DEPLOYMENT_NAME: deploymentName, TEMPORAL_BUILD_ID: buildId } = settings;
  return deploymentName && buildId ? { deploymentName, buildId } : undefined;
}

export interface WorkerSettings {
  connection: z.infer<typeof workerConnectionSchema>;
  telemetry: TelemetrySettings;
  agents: AgentWorkerSettings;
  transcripts: TranscriptStoreSettings;
  slack: SlackReplySettings;
  email: EmailReplySettings;
  versioning: WorkerVersioningSettings;
}

/** Reads and checks every setting of the worker at once; the error names every variable to fix. */
export function loadWorkerSettings(env: Environment): WorkerSettings {
  return loadSettingGroups(
    {
      connection: workerConnectionSchema,
      telemetry: telemetrySettingsSchema,
      agents: agentWorkerSettingsSchema,
      transcripts: transcriptStoreSettingsSchema,
      slack: slackReplySettingsSchema,
      email: emailReplySettingsSchema,
      versioning: workerVersioningSchema,
    },
    env,
    'worker',
  );
}
