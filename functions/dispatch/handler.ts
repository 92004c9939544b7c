import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { encryptedDataConverter, PayloadKeyError, payloadKeysFrom } from '../../temporal-client/payload-encryption.ts';
import { createTracing } from '../../telemetry/tracing.ts';
import { loadSecrets, secretsManagerReaderFrom, secretsOrExit, withSecretRefresh } from '../shared/secrets.ts';
import { createDispatchBatchHandler } from './dispatch-batch.ts';
import { loadDispatchSettings } from '../../config/dispatcher-settings.ts';
import { createTemporalClientProvider } from './temporal-client.ts';

// Cold start: settings are checked and the approval secret and payload keys read now; Temporal is connected on
// the first batch (its certificate read from TEMPORAL_SECRET_ARN) and the connection is kept
// for the container's life (see temporal-client.ts).
const { dispatch: settings, secretArns } = loadDispatchSettings(process.env);
const readSecret = secretsManagerReaderFrom(process.env);
const secrets = await secretsOrExit(
  loadSecrets({
    read: readSecret,
    secrets: {
      APPROVAL_TOKEN_SECRET: { variable: 'APPROVAL_TOKEN_SECRET_ARN', arn: secretArns.APPROVAL_TOKEN_SECRET_ARN },
      PAYLOAD_KEYS: { variable: 'PAYLOAD_KEYS_ARN', arn: secretArns.PAYLOAD_KEYS_ARN },
    },
  }),
);
// Payloads are sealed with the newest key of the secret as last read (a rotation reaches a warm function with the refresh below).
const payloadKeys = payloadKeysFrom(() => secrets.values.PAYLOAD_KEYS, `the PAYLOAD_KEYS_ARN secret (${secretArns.PAYLOAD_KEYS_ARN})`);
try {
  payloadKeys();
} catch (error) {
  if (!(error instanceof PayloadKeyError)) throw error;
  console.error(error.message);
  process.exit(1);
}
// Traced only when a collector is named; the client interceptor puts the trace on each update.
const tracing = createTracing({
  serviceName: 'dispatch',
  ...(settings.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: settings.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
});
const temporal = createTemporalClientProvider({
  env: process.env,
  ...(tracing ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] } } : {}),
  ...(settings.TEMPORAL_SECRET_ARN ? { secretArn: settings.TEMPORAL_SECRET_ARN, readSecret } : {}),
  connectTimeoutMs: settings.TEMPORAL_CONNECT_TIMEOUT_MS,
  dataConverter: encryptedDataConverter(payloadKeys),
});

// A rotated approval secret reaches a warm function within five minutes.
export const handler = withSecretRefresh(
  secrets,
  (values) =>
    createDispatchBatchHandler({
      config: { ...settings, APPROVAL_TOKEN_SECRET: values.APPROVAL_TOKEN_SECRET },
      temporal,
      ...(tracing ? { tracing } : {}),
    }),
  { maxAgeMs: 5 * 60_000 },
);
