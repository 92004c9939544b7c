import * as z from 'zod';
import { loadSettingGroups, optionalText, positiveInteger, requiredText, type Environment } from './load-settings.ts';

/**
 * Settings of the dispatcher, read once at cold start by `handler.ts`; a missing or bad value
 * names the variable. Temporal's own connection settings (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
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
  APPROVAL_TOKEN_SECRET: requiredText(
    'APPROVAL_TOKEN_SECRET',
    'the secret that signs approval buttons and email approval codes (the Slack edge and the worker use the same one)',
  ).meta({
    description:
      'Checks approval tokens and email approval codes (the Slack edge and the worker use the same secret). Local runner; the Lambda reads APPROVAL_TOKEN_SECRET_ARN instead.',
  }),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('agents').meta({ description: 'Task queue the conversation workflows run on.' }),
  TEMPORAL_SECRET_ARN: optionalText.meta({
    description:
      'Secrets Manager secret `{ "tlsCert", "tlsKey", "apiKey"? }` for Temporal Cloud, read on the first connect and again after a failed one.',
    unset: 'the connection from envconfig alone',
  }),
  TEMPORAL_CONNECT_TIMEOUT_MS: positiveInteger('TEMPORAL_CONNECT_TIMEOUT_MS', 5000).meta({
    description: 'How long one connection attempt to Temporal may take, in milliseconds.',
  }),
  DISPATCH_UPDATE_TIMEOUT_MS: positiveInteger('DISPATCH_UPDATE_TIMEOUT_MS', 20_000).meta({
    description: "How long one event's update may take, in milliseconds, before the record is left for SQS to redeliver.",
  }),
  DISPATCH_DEFAULT_AGENT: z.string().trim().min(1).default('assistant').meta({ description: 'Agent of events that name none.' }),
  DISPATCH_AGENTS: list.meta({ description: 'Agents events may name, comma-separated; others are dropped with a log line.', unset: 'any' }),
  EMAIL_AGENT_DOMAIN: optionalText.meta({
    description: "Domain of the agents' email addresses, for an inbound mail whose To does not show it (Bcc).",
    unset: 'none',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText.meta({
    description: 'OTLP/HTTP collector (spans go to `{url}/v1/traces`).',
    unset: 'nothing traced or exported',
  }),
});

export type DispatchSettings = z.infer<typeof dispatchSettingsSchema>;

/**
 * `@temporalio/envconfig` reads the connection itself; the address is checked here only so
 * that a dispatcher without one refuses to start instead of dialling envconfig's default,
 * localhost.
 */
export const temporalAddressSchema = z.object({
  TEMPORAL_ADDRESS: requiredText('TEMPORAL_ADDRESS', 'the Temporal frontend, e.g. my-namespace.a1b2c.tmprl.cloud:7233').meta({
    description:
      'The Temporal frontend, e.g. `my-namespace.a1b2c.tmprl.cloud:7233`; the rest of the connection is read by `@temporalio/envconfig` (below).',
  }),
});

/** In AWS the approval token secret and the payload keys are read from Secrets Manager at cold start; the configuration names the secret. */
export const dispatchSecretArnsSchema = z.object({
  APPROVAL_TOKEN_SECRET_ARN: requiredText(
    'APPROVAL_TOKEN_SECRET_ARN',
    'the ARN of the Secrets Manager secret holding the approval token secret',
  ).meta({
    description: 'The Secrets Manager secret holding the approval token secret, read at cold start.',
  }),
  PAYLOAD_KEYS_ARN: requiredText(
    'PAYLOAD_KEYS_ARN',
    'the ARN of the Secrets Manager secret holding the payload encryption keys (the worker uses the same)',
  ).meta({
    description: 'The Secrets Manager secret holding the payload encryption keys (the worker uses the same keys).',
  }),
});

/** The dispatcher's settings that are not secrets: what the Lambda reads from its environment. */
export const dispatchLambdaSchema = dispatchSettingsSchema.omit({ APPROVAL_TOKEN_SECRET: true });

export interface DispatchLambdaSettings {
  dispatch: z.infer<typeof dispatchLambdaSchema>;
  secretArns: z.infer<typeof dispatchSecretArnsSchema>;
}

/** Everything the dispatcher Lambda reads from its environment, checked together; the approval secret comes from Secrets Manager. */
export function loadDispatchSettings(env: Environment): DispatchLambdaSettings {
  const { dispatch, secretArns } = loadSettingGroups(
    { dispatch: dispatchLambdaSchema, secretArns: dispatchSecretArnsSchema, temporal: temporalAddressSchema },
    env,
    'dispatcher',
  );
  return { dispatch, secretArns };
}
