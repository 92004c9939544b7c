import * as z from 'zod';
import { loadSettingGroups, loadSettingsFrom, optionalText, positiveInteger, requiredText, type Environment } from './load-settings.ts';
import { suggestedPromptsSetting } from '../authoring/suggested-prompts.ts';
import { fifoQueueUrl } from '../functions/shared/queue-url.ts';

/**
 * Settings of the Slack edge, read once at cold start by `handler.ts`. A missing or bad value
 * stops the function from starting, naming the variable: an edge that cannot verify requests
 * must not accept any.
 */
export const slackEdgeSettingsSchema = z.object({
  SLACK_SIGNING_SECRET: requiredText('SLACK_SIGNING_SECRET', "the Slack app's signing secret (Basic Information → App Credentials)"),
  APPROVAL_TOKEN_SECRET: requiredText('APPROVAL_TOKEN_SECRET', 'the secret that signs approval buttons; the worker uses the same one'),
  INGRESS_QUEUE_URL: fifoQueueUrl,
  /** The app's bot user id; events carry it in `authorizations` too, so it is optional. */
  SLACK_BOT_USER_ID: optionalText,
  SLACK_DEFAULT_AGENT: z.string().trim().min(1).default('assistant'),
  /** Largest request body accepted. @default 1 MiB */
  INGRESS_MAX_BODY_BYTES: positiveInteger('INGRESS_MAX_BODY_BYTES', 1024 * 1024),
  /** How far a request's timestamp may be from now, either way. @default 300 s */
  SLACK_TIMESTAMP_TOLERANCE_SECONDS: positiveInteger('SLACK_TIMESTAMP_TOLERANCE_SECONDS', 300),
  /** Bot token: the edge posts a slash command's root message with it. Unset: commands answer with a note. */
  SLACK_BOT_TOKEN: optionalText,
  /**
   * The default agent's suggested prompts (its definition's `suggestedPrompts`, as JSON), set
   * on each new assistant thread with the bot token. @default none: Slack shows the manifest's
   */
  SLACK_SUGGESTED_PROMPTS: suggestedPromptsSetting.optional(),
  /** Slack Web API base URL (a local stand-in). @default https://slack.com/api/ */
  SLACK_API_URL: optionalText,
  /** Deadline for SQS to accept a message; Slack gives up after 3 s. @default 2500 ms */
  INGRESS_QUEUE_TIMEOUT_MS: positiveInteger('INGRESS_QUEUE_TIMEOUT_MS', 2500),
});

export type SlackEdgeSettings = z.infer<typeof slackEdgeSettingsSchema>;

/**
 * Where the edge's signed SendMessage goes: the Lambda's own region (Lambda sets
 * `AWS_REGION`), and an SQS endpoint override for a local SQS (moto).
 */
export const slackQueueEndpointSchema = z.object({
  AWS_REGION: optionalText,
  AWS_DEFAULT_REGION: optionalText,
  AWS_ENDPOINT_URL_SQS: optionalText,
  AWS_ENDPOINT_URL: optionalText,
});

/**
 * In AWS the secrets are not in the configuration: it names the Secrets Manager secrets, and
 * the function reads them at cold start (`functions/shared/secrets.ts`).
 */
export const slackSecretArnsSchema = z.object({
  SLACK_SIGNING_SECRET_ARN: requiredText('SLACK_SIGNING_SECRET_ARN', 'the ARN of the Secrets Manager secret holding the Slack signing secret'),
  APPROVAL_TOKEN_SECRET_ARN: requiredText('APPROVAL_TOKEN_SECRET_ARN', 'the ARN of the Secrets Manager secret holding the approval token secret'),
  /** The bot token's secret: slash commands post their root message with it. @default unset: a command gets a note to mention the app instead */
  SLACK_BOT_TOKEN_ARN: optionalText,
});

/** The edge's settings that are not secrets: what the Lambda reads from its environment. */
export const slackLambdaEdgeSchema = slackEdgeSettingsSchema.omit({ SLACK_SIGNING_SECRET: true, APPROVAL_TOKEN_SECRET: true, SLACK_BOT_TOKEN: true });

export interface SlackLambdaSettings {
  edge: z.infer<typeof slackLambdaEdgeSchema>;
  secretArns: z.infer<typeof slackSecretArnsSchema>;
  /** @default us-east-1 when neither AWS_REGION nor AWS_DEFAULT_REGION is set */
  region: string;
  /** @default the queue URL's own origin */
  sqsEndpoint?: string;
}

export function loadSlackEdgeSettings(env: Environment): SlackEdgeSettings {
  return loadSettingsFrom(slackEdgeSettingsSchema, env, 'Slack edge');
}

/** Everything the Slack Lambda reads from its environment, checked together; the secrets' values come from Secrets Manager. */
export function loadSlackLambdaSettings(env: Environment): SlackLambdaSettings {
  const { edge, secretArns, endpoint } = loadSettingGroups({ edge: slackLambdaEdgeSchema, secretArns: slackSecretArnsSchema, endpoint: slackQueueEndpointSchema }, env, 'Slack edge');
  const sqsEndpoint = endpoint.AWS_ENDPOINT_URL_SQS ?? endpoint.AWS_ENDPOINT_URL;
  return { edge, secretArns, region: endpoint.AWS_REGION ?? endpoint.AWS_DEFAULT_REGION ?? 'us-east-1', ...(sqsEndpoint ? { sqsEndpoint } : {}) };
}
