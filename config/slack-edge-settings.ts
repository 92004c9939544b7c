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
  SLACK_SIGNING_SECRET: requiredText('SLACK_SIGNING_SECRET', "the Slack app's signing secret (Basic Information → App Credentials)").meta({
    description:
      "The Slack app's signing secret (Basic Information → App Credentials), which every request's signature is checked with. Local runner; the Lambda reads SLACK_SIGNING_SECRET_ARN instead.",
  }),
  APPROVAL_TOKEN_SECRET: requiredText('APPROVAL_TOKEN_SECRET', 'the secret that signs approval buttons; the worker uses the same one').meta(
    {
      description:
        'Checks the approval buttons; the worker signs them with the same secret. Local runner; the Lambda reads APPROVAL_TOKEN_SECRET_ARN instead.',
    },
  ),
  INGRESS_QUEUE_URL: fifoQueueUrl.meta({ description: 'The SQS FIFO queue events go to (the URL ends in `.fifo`).' }),
  SLACK_BOT_USER_ID: optionalText.meta({
    description: "The app's bot user id, whose own messages are dropped; events carry it in `authorizations` too, so it may be left unset.",
  }),
  SLACK_DEFAULT_AGENT: z.string().trim().min(1).default('assistant').meta({ description: 'The agent Slack events go to.' }),
  INGRESS_MAX_BODY_BYTES: positiveInteger('INGRESS_MAX_BODY_BYTES', 1024 * 1024).meta({
    description: 'Largest request body accepted, in bytes; a larger one gets 413.',
    unset: '1 MiB',
  }),
  SLACK_TIMESTAMP_TOLERANCE_SECONDS: positiveInteger('SLACK_TIMESTAMP_TOLERANCE_SECONDS', 300).meta({
    description: "How far a request's timestamp may be from now, either way, in seconds.",
  }),
  SLACK_BOT_TOKEN: optionalText.meta({
    description:
      "Bot token the edge posts a slash command's root message with. Local runner; the Lambda reads SLACK_BOT_TOKEN_ARN instead.",
    unset: 'commands answer with a note to mention the app',
  }),
  SLACK_SUGGESTED_PROMPTS: suggestedPromptsSetting.optional().meta({
    description:
      "The default agent's suggested prompts (its definition's `suggestedPrompts`, as JSON), set on each new assistant thread with the bot token.",
    unset: "none: Slack shows the manifest's",
  }),
  SLACK_API_URL: optionalText.meta({ description: 'Slack Web API base URL (a local stand-in).', unset: '`https://slack.com/api/`' }),
  INGRESS_QUEUE_TIMEOUT_MS: positiveInteger('INGRESS_QUEUE_TIMEOUT_MS', 2500).meta({
    description: 'How long SQS has to accept a message before the answer is 503, in milliseconds; Slack gives up after 3 s.',
  }),
});

export type SlackEdgeSettings = z.infer<typeof slackEdgeSettingsSchema>;

/**
 * Where the edge's signed SendMessage goes: the Lambda's own region (Lambda sets
 * `AWS_REGION`), and an SQS endpoint override for a local SQS (moto).
 */
export const slackQueueEndpointSchema = z.object({
  AWS_REGION: optionalText.meta({
    description: "The Lambda's region (Lambda sets it); SendMessage is signed for it.",
    unset: '`AWS_DEFAULT_REGION`, else `us-east-1`',
  }),
  AWS_DEFAULT_REGION: optionalText.meta({ description: 'The region when AWS_REGION is unset.', unset: '`us-east-1`' }),
  AWS_ENDPOINT_URL_SQS: optionalText.meta({
    description: 'A local SQS (moto).',
    unset: "AWS_ENDPOINT_URL, else the queue URL's own endpoint",
  }),
  AWS_ENDPOINT_URL: optionalText.meta({
    description: 'Endpoint of every AWS service, when the service has no variable of its own (a local moto).',
    unset: 'AWS',
  }),
});

/**
 * In AWS the secrets are not in the configuration: it names the Secrets Manager secrets, and
 * the function reads them at cold start (`functions/shared/secrets.ts`).
 */
export const slackSecretArnsSchema = z.object({
  SLACK_SIGNING_SECRET_ARN: requiredText(
    'SLACK_SIGNING_SECRET_ARN',
    'the ARN of the Secrets Manager secret holding the Slack signing secret',
  ).meta({
    description: 'The Secrets Manager secret holding the Slack signing secret, read at cold start and again when a signature fails.',
  }),
  APPROVAL_TOKEN_SECRET_ARN: requiredText(
    'APPROVAL_TOKEN_SECRET_ARN',
    'the ARN of the Secrets Manager secret holding the approval token secret',
  ).meta({
    description: 'The Secrets Manager secret holding the approval token secret.',
  }),
  SLACK_BOT_TOKEN_ARN: optionalText.meta({
    description: 'The Secrets Manager secret holding the bot token: slash commands post their root message with it.',
    unset: 'commands answer with a note to mention the app',
  }),
});

/** The edge's settings that are not secrets: what the Lambda reads from its environment. */
export const slackLambdaEdgeSchema = slackEdgeSettingsSchema.omit({
  SLACK_SIGNING_SECRET: true,
  APPROVAL_TOKEN_SECRET: true,
  SLACK_BOT_TOKEN: true,
});

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
  const { edge, secretArns, endpoint } = loadSettingGroups(
    { edge: slackLambdaEdgeSchema, secretArns: slackSecretArnsSchema, endpoint: slackQueueEndpointSchema },
    env,
    'Slack edge',
  );
  const sqsEndpoint = endpoint.AWS_ENDPOINT_URL_SQS ?? endpoint.AWS_ENDPOINT_URL;
  return {
    edge,
    secretArns,
    region: endpoint.AWS_REGION ?? endpoint.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(sqsEndpoint ? { sqsEndpoint } : {}),
  };
}
