import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createDispatchBatchHandler } from './dispatch-batch.ts';
import { loadDispatchSettings } from './settings.ts';
import { createTemporalClientProvider } from './temporal-client.ts';

// Cold start: settings are checked now; Temporal is connected on the first batch and the
// connection is kept for the container's life (see temporal-client.ts).
const settings = loadDispatchSettings(process.env);
const temporal = createTemporalClientProvider({
  env: process.env,
  ...(settings.TEMPORAL_SECRET_ARN ? { secretArn: settings.TEMPORAL_SECRET_ARN, secrets: new SecretsManagerClient({}) } : {}),
  connectTimeoutMs: settings.TEMPORAL_CONNECT_TIMEOUT_MS,
});

export const handler = createDispatchBatchHandler({ config: settings, temporal });
