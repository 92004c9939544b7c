import * as z from 'zod';
import { suggestedPromptsSchema } from '../authoring/suggested-prompts.ts';

/**
 * Deployment settings, read once from CDK context (`cdk.json` or `-c key=value`) and
 * validated with zod. Every key has a default so `cdk synth` works offline with none set;
 * the keys marked "placeholder" must be set for a deploy that works, and the app warns
 * (a `cdk deploy --strict` fails) while they are not.
 */

/** Context keys whose defaults are placeholders: a deploy with them cannot work. */
export const PLACEHOLDER_KEYS = [
  'temporalAddress',
  'temporalNamespace',
  'temporalSecretArn',
  'slackSigningSecretArn',
  'approvalTokenSecretArn',
  'emailReplyTokenSecretArn',
  'googleApiKeySecretArn',
  'emailDomain',
  'payloadKeysSecretArn',
] as const;

const PLACEHOLDER_SECRET_ARN = (name: string) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-000000`;

export const PLACEHOLDERS = {
  temporalAddress: 'your-namespace.your-account.tmprl.cloud:7233',
  temporalNamespace: 'your-namespace.your-account',
  temporalSecretArn: PLACEHOLDER_SECRET_ARN('durable-agents/temporal'),
  slackSigningSecretArn: PLACEHOLDER_SECRET_ARN('durable-agents/slack-signing-secret'),
  approvalTokenSecretArn: PLACEHOLDER_SECRET_ARN('durable-agents/approval-token-secret'),
  emailReplyTokenSecretArn: PLACEHOLDER_SECRET_ARN('durable-agents/email-reply-token-secret'),
  googleApiKeySecretArn: PLACEHOLDER_SECRET_ARN('durable-agents/google-api-key'),
  emailDomain: 'agents.example.invalid',
  payloadKeysSecretArn: PLACEHOLDER_SECRET_ARN('durable-agents/payload-keys'),
} as const satisfies Record<(typeof PLACEHOLDER_KEYS)[number], string>;

const text = z.string().trim().min(1);

/** Context from `-c key=value` is always a string; from cdk.json it may be a number or boolean. */
const integer = (minimum: number, maximum: number) => z.coerce.number().int().min(minimum).max(maximum);
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);
const list = z.union([
  z.array(text),
  z.string().transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  ),
]);

const completeSecretArn = z
  .string()
  .trim()
  .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/, {
    message:
      'must be the complete ARN of a Secrets Manager secret, ending in the 6-character suffix (…:secret:name-AbC123); ECS cannot read a secret by partial ARN',
  });

export const deploymentSettingsSchema = z
  .object({
    account: z
      .string()
      .trim()
      .regex(/^\d{12}$/)
      .optional()
      .meta({ description: 'AWS account to deploy to.', unset: 'the stack is environment-agnostic' }),
    region: text.optional().meta({
      description: 'AWS region to deploy to; SES receiving exists in a few regions only.',
      unset: 'the stack is environment-agnostic',
    }),
    stackName: text.default('DurableAgents').meta({ description: 'Name of the CloudFormation stack.' }),

    temporalAddress: text
      .default(PLACEHOLDERS.temporalAddress)
      .meta({ description: 'Temporal Cloud endpoint, `namespace.account.tmprl.cloud:7233` (mTLS) or the regional API-key endpoint.' }),
    temporalNamespace: text
      .default(PLACEHOLDERS.temporalNamespace)
      .meta({ description: 'Temporal namespace the workers and the dispatcher use.' }),
    temporalTaskQueue: text
      .default('agents')
      .meta({ description: 'Task queue of conversations and agent runs (`TEMPORAL_TASK_QUEUE` of the worker and the dispatcher).' }),
    temporalAuth: z.enum(['mtls', 'api-key']).default('mtls').meta({
      description:
        'How workers and the dispatcher authenticate to Temporal: `mtls` uses `tlsCert`/`tlsKey` of the Temporal secret, `api-key` its `apiKey`.',
    }),
    temporalSecretArn: completeSecretArn
      .default(PLACEHOLDERS.temporalSecretArn)
      .meta({ description: 'Secret holding JSON `{ "tlsCert": "…PEM…", "tlsKey": "…PEM…", "apiKey"?: "…" }` (dispatcher, worker).' }),
    // One secret per value (a plain SecretString), so each role reads only what it uses.
    slackSigningSecretArn: completeSecretArn
      .default(PLACEHOLDERS.slackSigningSecretArn)
      .meta({ description: 'Secret holding the Slack signing secret (Slack edge).' }),
    approvalTokenSecretArn: completeSecretArn.default(PLACEHOLDERS.approvalTokenSecretArn).meta({
      description: 'Secret holding the HMAC secret of approval buttons and email approval codes (Slack edge, dispatcher, worker).',
    }),
    emailReplyTokenSecretArn: completeSecretArn
      .default(PLACEHOLDERS.emailReplyTokenSecretArn)
      .meta({ description: 'Secret holding the HMAC secret of reply plus-addresses (email edge, worker).' }),
    googleApiKeySecretArn: completeSecretArn
      .default(PLACEHOLDERS.googleApiKeySecretArn)
      .meta({ description: 'Secret holding the Gemini API key (worker).' }),
    slackBotTokenSecretArn: completeSecretArn.optional().meta({
      description: 'Secret holding the Slack bot token (worker, and the Slack edge for slash commands).',
      unset: 'no Slack replies',
    }),
    payloadKeysSecretArn: completeSecretArn.default(PLACEHOLDERS.payloadKeysSecretArn).meta({
      description:
        'Secret holding the payload encryption keys (worker, dispatcher): JSON `{ "keys": [{ "id": "…", "key": "<32 bytes in base64>" }] }`, newest first; the first encrypts, all decrypt ([security](security.md)).',
    }),

    emailDomain: text
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, { message: 'must be a domain name, e.g. agents.example.com' })
      .default(PLACEHOLDERS.emailDomain)
      .meta({
        description:
          "Domain the agents receive and send mail as (`<agent>@<emailDomain>`, a verified SES identity): it scopes the receipt rule, the worker's SES permission (that identity only) and every reply's From address.",
      }),
    emailRecipients: list.optional().meta({ description: 'Receipt rule recipients (addresses or domains).', unset: '`emailDomain`' }),
    emailAllowedSenders: text
      .default('@invalid')
      .meta({ description: '`EMAIL_ALLOWED_SENDERS` of the email edge.', unset: 'accepts nobody' }),
    emailConfigurationSet: text.optional().meta({
      description:
        "SES configuration set replies are sent with (`EMAIL_CONFIGURATION_SET`); it also narrows the worker's SES permission to it.",
      unset: 'none',
    }),
    sesRuleSetName: text
      .optional()
      .meta({ description: 'An existing (active) SES rule set to add the receipt rule to.', unset: 'the stack creates one' }),
    rawMailExpirationDays: integer(1, 3650).default(90).meta({ description: 'Days raw inbound mail is kept.' }),

    maxReceiveCount: integer(1, 1000)
      .default(5)
      .meta({ description: 'SQS receives of one message before it moves to the dead-letter queue.' }),
    slackDefaultAgent: text
      .default('assistant')
      .meta({ description: 'Agent of events that name none (`SLACK_DEFAULT_AGENT`, `DISPATCH_DEFAULT_AGENT`).' }),
    dispatchAgents: list.optional().meta({ description: 'Agents events may name (`DISPATCH_AGENTS`); others are dropped.', unset: 'any' }),
    slackBotUserId: text
      .optional()
      .meta({ description: "The Slack app's bot user id (`SLACK_BOT_USER_ID` of the Slack edge).", unset: 'taken from each event' }),
    slackSuggestedPrompts: z.preprocess(parseJsonText, suggestedPromptsSchema).optional().meta({
      description:
        "Prompts the Slack edge sets when a person opens the agent's DM (`SLACK_SUGGESTED_PROMPTS`), a JSON array of `{title, message}`, at most four.",
      unset: 'the `agent_view` prompts of slack/manifest.json',
    }),

    workerEnvironment: z
      .preprocess(
        parseJsonText,
        z.record(z.string(), z.string(), { message: 'must be a JSON object of strings, e.g. {"GEMINI_MODEL":"gemini-3.5-flash"}' }),
      )
      .default({})
      .meta({
        description:
          'Further plain (not secret) worker variables as a JSON object, e.g. `{"GEMINI_MODEL":"…","MODEL_CALLS_PER_SECOND":"5"}`.',
        unset: 'none',
      }),
    workerCpu: integer(256, 16384).default(512).meta({ description: 'CPU units of a worker task (1024 = 1 vCPU).' }),
    workerMemoryMiB: integer(512, 122880).default(1024).meta({ description: 'Memory of a worker task, in MiB.' }),
    workerDesiredCount: integer(1, 100)
      .default(1)
      .meta({ description: 'Worker tasks at deploy, between workerMinCount and workerMaxCount.' }),
    workerArchitecture: z
      .enum(['arm64', 'x86_64'])
      .default('arm64')
      .meta({ description: 'CPU architecture of the worker image and tasks.' }),
    workerDeploymentName: z
      .string()
      .trim()
      .regex(/^[^.\s]*$/, { message: 'may not contain dots or spaces' })
      .default('durable-agents')
      .meta({
        description:
          "Worker Deployment of the workers (worker versioning; each image's tag is its build id). Empty turns versioning off. After each deploy, make the new version current (`npm run deployment -- current`). No dots: Temporal writes a version as `<name>.<build id>`.",
      }),
    workerDrainingBuildIds: list.default([]).meta({
      description:
        'Build ids of earlier worker images still running pinned runs (`npm run deployment -- describe` lists them as draining); each keeps one task until drained.',
      unset: 'none',
    }),
    workerVersionPromotion: z.enum(['first', 'always', 'never']).default('first').meta({
      description:
        'What a new worker version does once its tasks poll: `first` becomes current only when no version is (the first deploy); `always` becomes current (the deploy switches new runs over once the new tasks are up); `never` waits for `npm run deployment -- current` or a ramp.',
    }),
    natGateways: integer(0, 2).default(0).meta({
      description: '`0`: public subnets and a public IP per task (no NAT cost); `1` or `2`: private subnets behind NAT gateways.',
    }),
    containerInsights: flag.default(false).meta({ description: 'CloudWatch Container Insights on the worker cluster.' }),
    otelCollector: flag
      .default(true)
      .meta({ description: 'An OpenTelemetry collector (ADOT) beside the worker: its spans to X-Ray, its Runtime metrics to CloudWatch.' }),
    logRetentionDays: integer(1, 3653).default(30).meta({ description: 'Days the log groups keep their logs.' }),

    workerMinCount: integer(1, 100).default(1).meta({
      description: 'Fewest worker tasks auto scaling keeps: at least 1, since the worker itself publishes the backlog that scaling reads.',
    }),
    workerMaxCount: integer(1, 100).default(4).meta({ description: 'Most worker tasks auto scaling starts.' }),
    workerScaleOutBacklog: integer(1, 100000).default(20).meta({
      description: 'Summed task-queue backlog (the TaskQueueBacklog metric) at which one worker task is added; five times this adds three.',
    }),
    workerCpuTargetPercent: integer(10, 90)
      .default(60)
      .meta({ description: 'Average worker CPU, in percent, that target tracking keeps.' }),
    slackReservedConcurrency: integer(0, 1000)
      .default(50)
      .meta({ description: 'Concurrency reserved for (and capping) the public Slack function; `0` reserves nothing.' }),
    alarmEmail: z
      .email()
      .optional()
      .meta({ description: 'Address subscribed to the alarm topic (it must confirm).', unset: 'no subscription' }),
    modelErrorRatePercent: integer(1, 100)
      .default(10)
      .meta({ description: 'Model calls failing, in percent over 15 minutes, that alarm.' }),
  })
  .superRefine((settings, context) => {
    if (settings.workerMinCount > settings.workerMaxCount) {
      context.addIssue({
        code: 'custom',
        path: ['workerMinCount'],
        message: `must not exceed workerMaxCount (${settings.workerMaxCount})`,
      });
    }
    if (settings.workerDesiredCount < settings.workerMinCount || settings.workerDesiredCount > settings.workerMaxCount) {
      context.addIssue({
        code: 'custom',
        path: ['workerDesiredCount'],
        message: `must lie between workerMinCount (${settings.workerMinCount}) and workerMaxCount (${settings.workerMaxCount})`,
      });
    }
  });

export type DeploymentSettings = z.infer<typeof deploymentSettingsSchema>;

/** Context from `-c key={…}` arrives as text; anything not JSON is left for the schema to refuse. */
function parseJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export class DeploymentSettingsError extends Error {
  override name = 'DeploymentSettingsError';
}

/** Validates context values; a bad one names the context key to fix. */
export function parseDeploymentSettings(context: Record<string, unknown>): DeploymentSettings {
  const given = Object.fromEntries(Object.entries(context).filter((entry) => entry[1] !== undefined));
  const parsed = deploymentSettingsSchema.safeParse(given);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
  throw new DeploymentSettingsError(`Invalid deployment settings; set these with -c key=value or in cdk.json "context":\n${problems}`);
}

/** The placeholder keys still at their defaults. */
export function placeholdersInUse(settings: DeploymentSettings): string[] {
  return PLACEHOLDER_KEYS.filter((key) => settings[key] === PLACEHOLDERS[key]);
}
