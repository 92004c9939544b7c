import * as z from 'zod';
import { loadSettingsFrom, optionalText, positiveInteger } from '../../core/load-settings.ts';

/**
 * Settings of the ingress edge, read once at cold start. A missing or bad value stops the
 * function from starting, naming the variable: an edge that cannot verify requests must not
 * accept any.
 */

const secret = (variable: string, purpose: string) =>
  z
    .string({ message: `${variable} is not set: ${purpose}` })
    .trim()
    .min(1, { message: `${variable} is empty: ${purpose}` });

const queueUrl = z.url({ message: 'INGRESS_QUEUE_URL must be the URL of the SQS FIFO queue (…/name.fifo)' }).refine((url) => url.endsWith('.fifo'), {
  message: 'INGRESS_QUEUE_URL must name a FIFO queue (ending in .fifo): deduplication depends on it',
});

export const slackIngressSettingsSchema = z.object({
  SLACK_SIGNING_SECRET: secret('SLACK_SIGNING_SECRET', 'the Slack app\'s signing secret (Basic Information → App Credentials)'),
  APPROVAL_TOKEN_SECRET: secret('APPROVAL_TOKEN_SECRET', 'the secret that signs approval buttons; the worker uses the same one'),
  INGRESS_QUEUE_URL: queueUrl,
  /** The app's bot user id; events carry it in `authorizations` too, so it is optional. */
  SLACK_BOT_USER_ID: optionalText,
  SLACK_DEFAULT_AGENT: z.string().trim().min(1).default('assistant'),
  /** Largest request body accepted. @default 1 MiB */
  INGRESS_MAX_BODY_BYTES: positiveInteger('INGRESS_MAX_BODY_BYTES', 1024 * 1024),
  /** How far a request's timestamp may be from now, either way. @default 300 s */
  SLACK_TIMESTAMP_TOLERANCE_SECONDS: positiveInteger('SLACK_TIMESTAMP_TOLERANCE_SECONDS', 300),
  /** Deadline for SQS to accept a message; Slack gives up after 3 s. @default 2500 ms */
  INGRESS_QUEUE_TIMEOUT_MS: positiveInteger('INGRESS_QUEUE_TIMEOUT_MS', 2500),
});

export type SlackIngressConfig = z.infer<typeof slackIngressSettingsSchema>;

const senderList = z
  .string({ message: 'EMAIL_ALLOWED_SENDERS is not set: list who may write to the agents, e.g. "ana@example.com,@example.org"' })
  .transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim().toLowerCase())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()).min(1, { message: 'EMAIL_ALLOWED_SENDERS is empty: list addresses or @domains' }));

export const emailIngressSettingsSchema = z.object({
  INGRESS_QUEUE_URL: queueUrl,
  /** Exact addresses (`ana@example.com`) or whole domains (`@example.com`), comma-separated. */
  EMAIL_ALLOWED_SENDERS: senderList,
  EMAIL_REPLY_TOKEN_SECRET: secret('EMAIL_REPLY_TOKEN_SECRET', 'the secret that signs reply plus-addresses; the worker uses the same one'),
  /** `reject-on-fail` drops mail whose DMARC verdict is FAIL; `ignore` leaves it to SPF/DKIM. */
  EMAIL_DMARC_POLICY: z.enum(['ignore', 'reject-on-fail'], { message: 'EMAIL_DMARC_POLICY must be "ignore" or "reject-on-fail"' }).default('reject-on-fail'),
  /** Characters of body text kept after quotes are stripped. @default 20000 */
  EMAIL_MAX_BODY_CHARS: positiveInteger('EMAIL_MAX_BODY_CHARS', 20_000),
  /** Largest raw message parsed. @default 20 MiB */
  EMAIL_MAX_RAW_BYTES: positiveInteger('EMAIL_MAX_RAW_BYTES', 20 * 1024 * 1024),
});

export type EmailIngressConfig = z.infer<typeof emailIngressSettingsSchema>;

export function loadSlackIngressConfig(env: NodeJS.ProcessEnv = process.env): SlackIngressConfig {
  return load(slackIngressSettingsSchema, env);
}

export function loadEmailIngressConfig(env: NodeJS.ProcessEnv = process.env): EmailIngressConfig {
  return load(emailIngressSettingsSchema, env);
}

function load<Schema extends z.ZodType>(schema: Schema, env: NodeJS.ProcessEnv): z.infer<Schema> {
  return loadSettingsFrom(schema, env, 'ingress');
}
