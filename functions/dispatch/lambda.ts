import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadDispatchConfig } from './config.ts';
import { createDispatchHandler } from './handler.ts';
import { createTemporalClientProvider } from './temporal-client.ts';

// Cold start: settings are checked now; Temporal is connected on the first batch and the
// connection is kept for the container's life (see temporal-client.ts).
const config = loadDispatchConfig();
const temporal = createTemporalClientProvider({
  ...(config.TEMPORAL_SECRET_ARN ? { secretArn: config.TEMPORAL_SECRET_ARN, secrets: new SecretsManagerClient({}) } : {}),
  connectTimeoutMs: config.TEMPORAL_CONNECT_TIMEOUT_MS,
});

export const handler = createDispatchHandler({ config, temporal });
