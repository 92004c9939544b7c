import { handle } from 'hono/aws-lambda';
import { credentialsFromEnvironment } from '../shared/aws-signature.ts';
import { loadSecrets, secretsManagerReaderFrom, withSecretsReadInBackground, type SecretSet } from '../shared/secrets.ts';
import { createSlackApp } from './app.ts';
import { loadSlackLambdaSettings } from '../../config/slack-edge-settings.ts';
import { createSqsEventQueue } from '../shared/event-queue.ts';
import { createSlackPoster, createSuggestedPromptsSetter } from './slack-post.ts';

// Read at cold start: a missing setting fails the init, naming the variable, before any request.
// The secrets come from Secrets Manager (the configuration holds only their ARNs); their read
// starts as soon as the module has loaded and the first request waits for it (see README, Ingress).
const settings = loadSlackLambdaSettings(process.env);
type SlackSecret = 'SLACK_SIGNING_SECRET' | 'APPROVAL_TOKEN_SECRET' | 'SLACK_BOT_TOKEN';
const readSecrets = () =>
  loadSecrets<SlackSecret>({
    read: secretsManagerReaderFrom(process.env),
    secrets: {
      SLACK_SIGNING_SECRET: { variable: 'SLACK_SIGNING_SECRET_ARN', arn: settings.secretArns.SLACK_SIGNING_SECRET_ARN },
      APPROVAL_TOKEN_SECRET: { variable: 'APPROVAL_TOKEN_SECRET_ARN', arn: settings.secretArns.APPROVAL_TOKEN_SECRET_ARN },
      // The bot token posts the root message a slash command's conversation lives under.
      ...(settings.secretArns.SLACK_BOT_TOKEN_ARN
        ? { SLACK_BOT_TOKEN: { variable: 'SLACK_BOT_TOKEN_ARN', arn: settings.secretArns.SLACK_BOT_TOKEN_ARN } }
        : {}),
    } as Record<SlackSecret, { variable: string; arn: string }>,
  });
const queue = createSqsEventQueue({
  queueUrl: settings.edge.INGRESS_QUEUE_URL,
  region: settings.region,
  // Lambda puts the function role's credentials in the environment; read them per request.
  credentials: () => credentialsFromEnvironment(process.env),
  ...(settings.sqsEndpoint ? { endpoint: settings.sqsEndpoint } : {}),
  timeoutMs: settings.edge.INGRESS_QUEUE_TIMEOUT_MS,
});

const slackHandler = (values: SecretSet<SlackSecret>['values']) => {
  const botToken = values.SLACK_BOT_TOKEN as string | undefined;
  const api = botToken ? { token: botToken, ...(settings.edge.SLACK_API_URL ? { apiUrl: settings.edge.SLACK_API_URL } : {}) } : undefined;
  const withToken = api ? { postRootMessage: createSlackPoster(api), setSuggestedPrompts: createSuggestedPromptsSetter(api) } : {};
  return handle(createSlackApp({ config: { ...settings.edge, ...values }, queue, ...withToken }));
};

/** A 401 to a signed request: perhaps the signing secret was rotated. */
function refusedBySecret(response: { statusCode: number }, event: Parameters<ReturnType<typeof slackHandler>>[0]): boolean {
  return response.statusCode === 401 && Object.keys(event.headers ?? {}).some((name) => name.toLowerCase() === 'x-slack-signature');
}

// Then the secrets are read again (at most every 30 s) and the request is checked once more with the new values.
export const handler = withSecretsReadInBackground(readSecrets, slackHandler, { refusedBySecret, maxAgeMs: 15 * 60_000 });
