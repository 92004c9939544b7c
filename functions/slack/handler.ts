import { handle } from 'hono/aws-lambda';
import { createSlackApp } from './app.ts';
import { loadSlackLambdaSettings } from './settings.ts';
import { createSignedEventQueue } from './signed-event-queue.ts';
import { createSlackPoster } from './slack-post.ts';
import { credentialsFromEnvironment } from './sqs-signed.ts';

// Read at cold start: a missing secret fails the init, naming the variable, before any request.
const settings = loadSlackLambdaSettings(process.env);
const queue = createSignedEventQueue({
  queueUrl: settings.edge.INGRESS_QUEUE_URL,
  region: settings.region,
  // Lambda puts the function role's credentials in the environment; read them per request.
  credentials: () => credentialsFromEnvironment(process.env),
  ...(settings.sqsEndpoint ? { endpoint: settings.sqsEndpoint } : {}),
  timeoutMs: settings.edge.INGRESS_QUEUE_TIMEOUT_MS,
});
const postRootMessage = settings.edge.SLACK_BOT_TOKEN
  ? createSlackPoster({ token: settings.edge.SLACK_BOT_TOKEN, ...(settings.edge.SLACK_API_URL ? { apiUrl: settings.edge.SLACK_API_URL } : {}) })
  : undefined;
const app = createSlackApp({ config: settings.edge, queue, ...(postRootMessage ? { postRootMessage } : {}) });

export const handler = handle(app);
