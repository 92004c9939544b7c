import { SQSClient } from '@aws-sdk/client-sqs';
import { handle } from 'hono/aws-lambda';
import { createIngressApp } from './app.ts';
import { loadSlackIngressConfig } from './config.ts';
import { createSqsEventQueue } from './event-queue.ts';

// Loaded at cold start: a missing secret fails the init, naming the variable, before any request.
const config = loadSlackIngressConfig();
const queue = createSqsEventQueue({ client: new SQSClient({}), queueUrl: config.INGRESS_QUEUE_URL, timeoutMs: config.INGRESS_QUEUE_TIMEOUT_MS });
const app = createIngressApp({ config, queue });

export const handler = handle(app);
