import * as z from 'zod';
import { loadSettingsFrom, optionalText, positiveInteger } from '../../core/load-settings.ts';

/**
 * Settings of the dispatcher, read once at cold start; a missing or bad value names the
 * variable. Temporal's own connection settings (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
 * `TEMPORAL_TLS_*`, `TEMPORAL_API_KEY`, `TEMPORAL_PROFILE`…) are read by
 * `@temporalio/envconfig`, not here.
 */

const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((entry) => entry.trim().toLowerCase())
      .filter(Boolean),
  );

export const dispatchSettingsSchema = z.object({
  APPROVAL_TOKEN_SECRET: z
    .string({ message: 'APPROVAL_TOKEN_SECRET is not set: the secret that signs approval buttons and email approval codes (the ingress and worker use the same one)' })
    .trim()
    .min(1, { message: 'APPROVAL_TOKEN_SECRET is empty' }),
  /** Task queue the conversation workflows run on. @default 'agents' */
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('agents'),
  /** Secrets Manager secret `{ "tlsCert", "tlsKey", "apiKey"? }` for Temporal Cloud; unset: envconfig alone. */
  TEMPORAL_SECRET_ARN: optionalText,
  /** How long one connection attempt to Temporal may take. @default 5000 ms */
  TEMPORAL_CONNECT_TIMEOUT_MS: positiveInteger('TEMPORAL_CONNECT_TIMEOUT_MS', 5000),
  /** How long one event's update may take before the record is left for SQS to redeliver. @default 20000 ms */
  DISPATCH_UPDATE_TIMEOUT_MS: positiveInteger('DISPATCH_UPDATE_TIMEOUT_MS', 20_000),
  /** Agent for events that name none. @default 'assistant' */
  DISPATCH_DEFAULT_AGENT: z.string().trim().min(1).default('assistant'),
  /** Agents events may name, comma-separated; others are dropped with a log line. @default any */
  DISPATCH_AGENTS: list,
  /** Domain of the agents' email addresses, when an inbound mail's To does not show it (Bcc). @default none */
  EMAIL_AGENT_DOMAIN: optionalText,
});

export type DispatchConfig = z.infer<typeof dispatchSettingsSchema>;

export const pollerSettingsSchema = z.object({
  /** The SQS FIFO queue the ingress writes to (`npm run dispatch` only; in AWS the event source mapping polls). */
  DISPATCH_QUEUE_URL: z.url({ message: 'DISPATCH_QUEUE_URL must be the URL of the ingress SQS FIFO queue' }),
  /** Long-poll wait of one ReceiveMessage. @default 20 s */
  DISPATCH_WAIT_SECONDS: positiveInteger('DISPATCH_WAIT_SECONDS', 20).pipe(z.number().max(20, { message: 'DISPATCH_WAIT_SECONDS is at most 20' })),
  /** How long a received message stays hidden; a failed one comes back after it. @default the queue's own */
  DISPATCH_VISIBILITY_TIMEOUT_SECONDS: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? undefined : Number(value)))
    .pipe(z.number({ message: 'DISPATCH_VISIBILITY_TIMEOUT_SECONDS must be a number of seconds' }).int().nonnegative().optional()),
});

export type PollerConfig = z.infer<typeof pollerSettingsSchema>;

export function loadDispatchConfig(env: NodeJS.ProcessEnv = process.env): DispatchConfig {
  return load(dispatchSettingsSchema, env);
}

export function loadPollerConfig(env: NodeJS.ProcessEnv = process.env): PollerConfig {
  return load(pollerSettingsSchema, env);
}

function load<Schema extends z.ZodType>(schema: Schema, env: NodeJS.ProcessEnv): z.infer<Schema> {
  return loadSettingsFrom(schema, env, 'dispatch');
}
