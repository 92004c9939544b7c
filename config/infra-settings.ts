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
const list = z.union([z.array(text), z.string().transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))]);

const completeSecretArn = z
  .string()
  .trim()
  .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/, {
    message: 'must be the complete ARN of a Secrets Manager secret, ending in the 6-character suffix (…:secret:name-AbC123); ECS cannot read a secret by partial ARN',
  });

export const deploymentSettingsSchema = z.object({
  /** AWS account; unset leaves the stack environment-agnostic. */
  account: z.string().trim().regex(/^\d{12}$/).optional(),
  /** AWS region; unset leaves the stack environment-agnostic. SES receiving exists in a few regions only. */
  region: text.optional(),
  stackName: text.default('DurableAgents'),

  /** Temporal Cloud endpoint, `namespace.account.tmprl.cloud:7233` (mTLS) or the regional API-key endpoint. */
  temporalAddress: text.default(PLACEHOLDERS.temporalAddress),
  temporalNamespace: text.default(PLACEHOLDERS.temporalNamespace),
  temporalTaskQueue: text.default('agents'),
  /** How workers and the dispatcher authenticate: `mtls` uses `tlsCert`/`tlsKey` of the secret, `api-key` its `apiKey`. */
  temporalAuth: z.enum(['mtls', 'api-key']).default('mtls'),
  /** Secret holding JSON `{ "tlsCert": "…PEM…", "tlsKey": "…PEM…", "apiKey"?: "…" }`. */
  temporalSecretArn: completeSecretArn.default(PLACEHOLDERS.temporalSecretArn),
  /**
   * One secret per value (a plain SecretString), so each role reads only what it uses: the
   * Slack signing secret (Slack edge), the approval token secret (Slack edge, dispatcher,
   * worker), the email reply token secret (email edge, worker), the Gemini API key and the
   * Slack bot token (worker; without it, no Slack replies).
   */
  slackSigningSecretArn: completeSecretArn.default(PLACEHOLDERS.slackSigningSecretArn),
  approvalTokenSecretArn: completeSecretArn.default(PLACEHOLDERS.approvalTokenSecretArn),
  emailReplyTokenSecretArn: completeSecretArn.default(PLACEHOLDERS.emailReplyTokenSecretArn),
  googleApiKeySecretArn: completeSecretArn.default(PLACEHOLDERS.googleApiKeySecretArn),
  slackBotTokenSecretArn: completeSecretArn.optional(),
  /**
   * The payload encryption keys (worker, dispatcher): JSON `{ "keys": [{ "id": "…", "key":
   * "<32 bytes in base64>" }] }`, newest first; the first encrypts, all decrypt (docs/security.md).
   */
  payloadKeysSecretArn: completeSecretArn.default(PLACEHOLDERS.payloadKeysSecretArn),

  /**
   * Domain the agents receive and send mail as (`<agent>@<emailDomain>`, a verified SES
   * identity). Required for a deploy: it scopes the receipt rule, the worker's SES permission
   * (that identity only) and every reply's From address.
   */
  emailDomain: text.regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, { message: 'must be a domain name, e.g. agents.example.com' }).default(PLACEHOLDERS.emailDomain),
  /** Receipt rule recipients (addresses or domains); defaults to `emailDomain`. */
  emailRecipients: list.optional(),
  /** `EMAIL_ALLOWED_SENDERS` of the email ingress. The default `@invalid` accepts nobody. */
  emailAllowedSenders: text.default('@invalid'),
  /** SES configuration set replies are sent with (`EMAIL_CONFIGURATION_SET`); also narrows the worker's SES permission to it. */
  emailConfigurationSet: text.optional(),
  /** Add the receipt rule to this existing (active) rule set instead of creating one. */
  sesRuleSetName: text.optional(),
  /** Days raw inbound mail is kept. */
  rawMailExpirationDays: integer(1, 3650).default(90),

  /** SQS receives of one message before it moves to the dead-letter queue. */
  maxReceiveCount: integer(1, 1000).default(5),
  /** Agent of events that name none (`SLACK_DEFAULT_AGENT`, `DISPATCH_DEFAULT_AGENT`). */
  slackDefaultAgent: text.default('assistant'),
  /** Agents events may name (`DISPATCH_AGENTS`, comma-separated); others are dropped. Unset: any. */
  dispatchAgents: list.optional(),
  slackBotUserId: text.optional(),
  /**
   * Prompts the Slack edge sets when a person opens the agent's DM (`SLACK_SUGGESTED_PROMPTS`),
   * a JSON array of `{title, message}`, at most four. Unset: the `agent_view` prompts of slack/manifest.json.
   */
  slackSuggestedPrompts: z.preprocess(parseJsonText, suggestedPromptsSchema).optional(),

  /** Further plain (not secret) worker variables as a JSON object, e.g. `{"GEMINI_MODEL":"…","MODEL_CALLS_PER_SECOND":"5"}`. */
  workerEnvironment: z
    .preprocess(parseJsonText, z.record(z.string(), z.string(), { message: 'must be a JSON object of strings, e.g. {"GEMINI_MODEL":"gemini-3.5-flash"}' }))
    .default({}),
  workerCpu: integer(256, 16384).default(512),
  workerMemoryMiB: integer(512, 122880).default(1024),
  workerDesiredCount: integer(1, 100).default(1),
  workerArchitecture: z.enum(['arm64', 'x86_64']).default('arm64'),
  /**
   * Worker Deployment of the workers (worker versioning; each image's tag is its build id).
   * Empty turns versioning off. After each deploy, make the new version current
   * (`npm run deployment -- current`). No dots: Temporal writes a version as `<name>.<build id>`.
   */
  workerDeploymentName: z.string().trim().regex(/^[^.\s]*$/, { message: 'may not contain dots or spaces' }).default('durable-agents'),
  /** Build ids of earlier worker images still running pinned runs (`npm run deployment -- describe` lists them as draining); each keeps one task until drained. */
  workerDrainingBuildIds: list.default([]),
  /**
   * What a new worker version does once its tasks poll: `first` becomes current only when no
   * version is (the first deploy); `always` becomes current (the deploy switches new runs over
   * once the new tasks are up); `never` waits for `npm run deployment -- current` or a ramp.
   */
  workerVersionPromotion: z.enum(['first', 'always', 'never']).default('first'),
  /** 0: public subnets and a public IP per task (no NAT cost); 1 or 2: private subnets behind NAT gateways. */
  natGateways: integer(0, 2).default(0),
  containerInsights: flag.default(false),
  /** An OpenTelemetry collector (ADOT) beside the worker: its spans to X-Ray, its Runtime metrics to CloudWatch. */
  otelCollector: flag.default(true),
  logRetentionDays: integer(1, 3653).default(30),

  /** Fewest worker tasks auto scaling keeps: at least 1, since the worker itself publishes the backlog that scaling reads. */
  workerMinCount: integer(1, 100).default(1),
  /** Most worker tasks auto scaling starts. */
  workerMaxCount: integer(1, 100).default(4),
  /** Summed task-queue backlog (the TaskQueueBacklog metric) at which one worker task is added; five times this adds three. */
  workerScaleOutBacklog: integer(1, 100000).default(20),
  /** Average worker CPU, in percent, that target tracking keeps. */
  workerCpuTargetPercent: integer(10, 90).default(60),
  /** Concurrency reserved for (and capping) the public Slack function; 0 reserves nothing. */
  slackReservedConcurrency: integer(0, 1000).default(50),
  /** Address subscribed to the alarm topic (it must confirm); unset: no subscription. */
  alarmEmail: z.email().optional(),
  /** Model calls failing, in percent over 15 minutes, that alarm. */
  modelErrorRatePercent: integer(1, 100).default(10),
}).superRefine((settings, context) => {
  if (settings.workerMinCount > settings.workerMaxCount) {
    context.addIssue({ code: 'custom', path: ['workerMinCount'], message: `must not exceed workerMaxCount (${settings.workerMaxCount})` });
  }
  if (settings.workerDesiredCount < settings.workerMinCount || settings.workerDesiredCount > settings.workerMaxCount) {
    context.addIssue({ code: 'custom', path: ['workerDesiredCount'], message: `must lie between workerMinCount (${settings.workerMinCount}) and workerMaxCount (${settings.workerMaxCount})` });
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
