import * as z from 'zod';
import { loadSettingGroups, positiveInteger, requiredText, type Environment } from './load-settings.ts';
import { transcriptStoreSettingsSchema, type TranscriptStoreSettings } from './transcript-store-settings.ts';
import { fifoQueueUrl } from '../functions/shared/queue-url.ts';
import { normaliseAllowEntry } from '../functions/email/email-checks.ts';

/**
 * Settings of the email edge, read once at cold start by `handler.ts`; a missing or bad value
 * stops the function from starting, naming the variable.
 */

const senderList = z
  .string({ message: 'EMAIL_ALLOWED_SENDERS is not set: list who may write to the agents, e.g. "ana@example.com,@example.org"' })
  .transform((value, context) => {
    const entries: string[] = [];
    for (const entry of value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const normalised = normaliseAllowEntry(entry);
      if (normalised) entries.push(normalised);
      else
        context.addIssue({
          code: 'custom',
          message: `EMAIL_ALLOWED_SENDERS entry "${entry.slice(0, 80)}" is neither an address nor a domain (no wildcards: list each domain)`,
        });
    }
    return entries;
  })
  .pipe(z.array(z.string()).min(1, { message: 'EMAIL_ALLOWED_SENDERS is empty: list addresses or @domains' }));

export const emailEdgeSettingsSchema = z.object({
  INGRESS_QUEUE_URL: fifoQueueUrl.meta({ description: 'The SQS FIFO queue events go to (the URL ends in `.fifo`).' }),
  EMAIL_ALLOWED_SENDERS: senderList.meta({
    description:
      'Who may write to the agents, comma-separated: exact addresses (`ana@example.com`) or whole domains (`@example.com` or `example.com`: that domain only, not its subdomains; no wildcards).',
  }),
  EMAIL_REPLY_TOKEN_SECRET: requiredText(
    'EMAIL_REPLY_TOKEN_SECRET',
    'the secret that signs reply plus-addresses; the worker uses the same one',
  ).meta({
    description:
      'Checks the reply plus-addresses; the worker signs them with the same secret. Local runner; the Lambda reads EMAIL_REPLY_TOKEN_SECRET_ARN instead.',
  }),
  EMAIL_DMARC_POLICY: z
    .enum(['ignore', 'reject-on-fail'], { message: 'EMAIL_DMARC_POLICY must be "ignore" or "reject-on-fail"' })
    .default('reject-on-fail')
    .meta({
      description:
        '`reject-on-fail` drops mail whose DMARC verdict is FAIL; `ignore` leaves it to the SPF/DKIM alignment rule, which still applies.',
    }),
  EMAIL_MAX_BODY_CHARS: positiveInteger('EMAIL_MAX_BODY_CHARS', 20_000).meta({
    description: 'Characters of body text kept after quotes are stripped.',
  }),
  EMAIL_MAX_RAW_BYTES: positiveInteger('EMAIL_MAX_RAW_BYTES', 20 * 1024 * 1024).meta({
    description: 'Largest raw message parsed, in bytes.',
    unset: '20 MiB',
  }),
  EMAIL_MAX_ATTACHMENT_BYTES: positiveInteger('EMAIL_MAX_ATTACHMENT_BYTES', 10 * 1024 * 1024).meta({
    description: 'Largest attachment stored, in bytes; a larger one is listed as omitted.',
    unset: '10 MiB',
  }),
});

export type EmailEdgeSettings = z.infer<typeof emailEdgeSettingsSchema>;

/** In AWS the reply token secret is read from Secrets Manager at cold start; the configuration names the secret. */
export const emailSecretArnsSchema = z.object({
  EMAIL_REPLY_TOKEN_SECRET_ARN: requiredText(
    'EMAIL_REPLY_TOKEN_SECRET_ARN',
    'the ARN of the Secrets Manager secret holding the email reply token secret',
  ).meta({
    description: 'The Secrets Manager secret holding the email reply token secret, read at cold start.',
  }),
});

/** The edge's settings that are not secrets: what the Lambda reads from its environment. */
export const emailLambdaEdgeSchema = emailEdgeSettingsSchema.omit({ EMAIL_REPLY_TOKEN_SECRET: true });

export interface EmailLambdaSettings {
  edge: z.infer<typeof emailLambdaEdgeSchema>;
  secretArns: z.infer<typeof emailSecretArnsSchema>;
  /** Where attachments are stored: the transcript store the worker reads (`TRANSCRIPT_*`). */
  transcripts: TranscriptStoreSettings;
}

export function loadEmailEdgeSettings(env: Environment): EmailEdgeSettings {
  return loadSettingGroups({ edge: emailEdgeSettingsSchema }, env, 'email edge').edge;
}

/** Everything the email Lambda reads from its environment, checked together; the secret's value comes from Secrets Manager. */
export function loadEmailLambdaSettings(env: Environment): EmailLambdaSettings {
  return loadSettingGroups(
    { edge: emailLambdaEdgeSchema, secretArns: emailSecretArnsSchema, transcripts: transcriptStoreSettingsSchema },
    env,
    'email edge',
  );
}
