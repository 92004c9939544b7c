import { handle } from 'hono/aws-lambda';
import { createIngressApp } from './app.ts';
import { loadSlackIngressConfig } from './config.ts';
import { createSignedEventQueue } from './event-queue.ts';
import { credentialsFromEnvironment } from './sqs-signed.ts';

// Loaded at cold start: a missing secret fails the init, naming the variable, before any request.
const config = loadSlackIngressConfig();
const queue = createSignedEventQueue({
  queueUrl: config.INGRESS_QUEUE_URL,
  region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
  // Lambda puts the function role's credentials in the environment; read them per request.
  credentials: () => credentialsFromEnvironment(),
  ...(process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL ? { endpoint: process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL } : {}),
  timeoutMs: config.INGRESS_QUEUE_TIMEOUT_MS,
});
const app = createIngressApp({ config, queue });

export const handler = handle(app);
