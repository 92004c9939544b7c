import { SQSClient } from '@aws-sdk/client-sqs';
import { createIngressApp } from './app.ts';
import { loadSlackIngressConfig } from './config.ts';
import { createSqsEventQueue } from './sqs-sdk-queue.ts';
import { jsonLog } from './log.ts';
import { serveOnNode } from './node-server.ts';

// `npm run ingress`: the Lambda's app on a local port. Point the SDK at a local SQS with
// AWS_ENDPOINT_URL_SQS (or AWS_ENDPOINT_URL); Slack reaches it through a tunnel.
const config = loadSlackIngressConfig();
const port = Number(process.env.PORT || 8787);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT=${process.env.PORT} is not a port number (default 8787).`);
const host = process.env.HOST ?? '127.0.0.1';
const queue = createSqsEventQueue({ client: new SQSClient({}), queueUrl: config.INGRESS_QUEUE_URL, timeoutMs: config.INGRESS_QUEUE_TIMEOUT_MS });
const server = await serveOnNode(createIngressApp({ config, queue }), port, host);
jsonLog({ msg: 'ingress listening', url: `http://${host}:${port}` });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
