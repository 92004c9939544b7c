import { SQSClient } from '@aws-sdk/client-sqs';
import { encryptedDataConverter } from '../temporal-client/payload-encryption.ts';
import { settingsOrExit } from '../config/load-settings.ts';
import { createDispatchBatchHandler } from '../functions/dispatch/dispatch-batch.ts';
import { createTemporalClientProvider } from '../functions/dispatch/temporal-client.ts';
import { jsonLog } from '../functions/shared/log.ts';
import { localPayloadKeysOrExit } from './payload-keys.ts';
import { pollQueue } from './poll-queue.ts';
import { loadDispatchRunnerSettings } from '../config/local-settings.ts';

// `npm run dispatch`: the Lambda's handler, fed by a long-poll loop on the same queue. Point
// the SDK at a local SQS with AWS_ENDPOINT_URL_SQS, and Temporal with TEMPORAL_ADDRESS.
const { dispatch, poller } = settingsOrExit(() => loadDispatchRunnerSettings(process.env));
// Payloads sealed with the keys the worker opens: PAYLOAD_KEYS, or DATA_DIR's key file.
const dataConverter = encryptedDataConverter(localPayloadKeysOrExit(process.env));
const temporal = createTemporalClientProvider({ env: process.env, connectTimeoutMs: dispatch.TEMPORAL_CONNECT_TIMEOUT_MS, dataConverter });
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());

jsonLog({
  msg: 'dispatch polling',
  queueUrl: poller.DISPATCH_QUEUE_URL,
  taskQueue: dispatch.TEMPORAL_TASK_QUEUE,
  concurrentBatches: poller.DISPATCH_CONCURRENT_BATCHES,
});
await pollQueue({
  sqs: new SQSClient({}),
  queueUrl: poller.DISPATCH_QUEUE_URL,
  handler: createDispatchBatchHandler({ config: dispatch, temporal }),
  signal: stop.signal,
  waitTimeSeconds: poller.DISPATCH_WAIT_SECONDS,
  concurrentBatches: poller.DISPATCH_CONCURRENT_BATCHES,
  ...(poller.DISPATCH_VISIBILITY_TIMEOUT_SECONDS !== undefined
    ? { visibilityTimeoutSeconds: poller.DISPATCH_VISIBILITY_TIMEOUT_SECONDS }
    : {}),
});
await temporal.close();
jsonLog({ msg: 'dispatch stopped' });
