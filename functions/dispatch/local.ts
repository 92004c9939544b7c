import { SQSClient } from '@aws-sdk/client-sqs';
import { jsonLog } from '../ingress/log.ts';
import { loadDispatchConfig, loadPollerConfig } from './config.ts';
import { createDispatchHandler } from './handler.ts';
import { pollQueue } from './poll.ts';
import { createTemporalClientProvider } from './temporal-client.ts';

// `npm run dispatch`: the Lambda's handler, fed by a long-poll loop on the same queue. Point
// the SDK at a local SQS with AWS_ENDPOINT_URL_SQS, and Temporal with TEMPORAL_ADDRESS.
const config = loadDispatchConfig();
const poller = loadPollerConfig();
const temporal = createTemporalClientProvider({ connectTimeoutMs: config.TEMPORAL_CONNECT_TIMEOUT_MS });
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());

jsonLog({ msg: 'dispatch polling', queueUrl: poller.DISPATCH_QUEUE_URL, taskQueue: config.TEMPORAL_TASK_QUEUE });
await pollQueue({
  sqs: new SQSClient({}),
  queueUrl: poller.DISPATCH_QUEUE_URL,
  handler: createDispatchHandler({ config, temporal }),
  signal: stop.signal,
  waitTimeSeconds: poller.DISPATCH_WAIT_SECONDS,
  ...(poller.DISPATCH_VISIBILITY_TIMEOUT_SECONDS !== undefined ? { visibilityTimeoutSeconds: poller.DISPATCH_VISIBILITY_TIMEOUT_SECONDS } : {}),
});
await temporal.close();
jsonLog({ msg: 'dispatch stopped' });
