import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import * as z from 'zod';
import type { Environment } from '../../core/load-settings.ts';

export interface TemporalClientProviderOptions {
  /** The variables `@temporalio/envconfig` reads (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, …): the entry's environment. */
  env: Environment;
  /** With `secretArn`: where the mTLS certificate and key (or API key) come from. */
  secrets?: SecretsManagerClient;
  /** ARN of a JSON secret `{ "tlsCert": "...", "tlsKey": "...", "apiKey"?: "..." }`. */
  secretArn?: string;
  /** @default 5000 ms */
  connectTimeoutMs?: number;
}

export interface TemporalClientProvider {
  /** The client, connecting on first use; a failed connect is tried again on the next call. */
  get(): Promise<Client>;
  /** Connections made so far (1 in a warm Lambda; more only after failures). */
  readonly connects: number;
  close(): Promise<void>;
}

const temporalSecretSchema = z
  .object({ tlsCert: z.string().min(1).optional(), tlsKey: z.string().min(1).optional(), apiKey: z.string().min(1).optional() })
  .refine((secret) => (secret.tlsCert === undefined) === (secret.tlsKey === undefined), { message: 'tlsCert and tlsKey come together' })
  .refine((secret) => secret.tlsCert !== undefined || secret.apiKey !== undefined, { message: 'holds neither tlsCert/tlsKey nor apiKey' });

/**
 * One Temporal connection per Lambda container: the secret is read once, the connection is
 * made on the first invocation and reused by every later one. A connect that fails is not
 * remembered, so the next invocation tries again instead of failing for the container's life.
 */
export function createTemporalClientProvider(options: TemporalClientProviderOptions): TemporalClientProvider {
  let client: Client | undefined;
  let connecting: Promise<Client> | undefined;
  let secretVariables: Record<string, string> | undefined;
  let connects = 0;

  async function readSecret(): Promise<Record<string, string>> {
    if (secretVariables) return secretVariables;
    if (!options.secretArn) return (secretVariables = {});
    if (!options.secrets) throw new Error('TEMPORAL_SECRET_ARN is set but no Secrets Manager client was given');
    const response = await options.secrets.send(new GetSecretValueCommand({ SecretId: options.secretArn }));
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.SecretString ?? '');
    } catch {
      throw new Error(`Secret ${options.secretArn} is not JSON; expected { "tlsCert": "...", "tlsKey": "..." } or { "apiKey": "..." }`);
    }
    const secret = temporalSecretSchema.safeParse(parsed);
    if (!secret.success) throw new Error(`Secret ${options.secretArn} ${secret.error.issues[0]?.message ?? 'is malformed'}`);
    secretVariables = {
      ...(secret.data.tlsCert ? { TEMPORAL_TLS_CLIENT_CERT_DATA: secret.data.tlsCert, TEMPORAL_TLS_CLIENT_KEY_DATA: secret.data.tlsKey as string } : {}),
      ...(secret.data.apiKey ? { TEMPORAL_API_KEY: secret.data.apiKey } : {}),
    };
    return secretVariables;
  }

  async function connect(): Promise<Client> {
    const overrides = await readSecret();
    const env = Object.fromEntries(Object.entries({ ...options.env, ...overrides }).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const config = loadClientConnectConfig({ overrideEnvVars: env });
    connects += 1;
    const connection = await Connection.connect({ ...config.connectionOptions, connectTimeout: options.connectTimeoutMs ?? 5000 });
    return new Client({ connection, ...(config.namespace ? { namespace: config.namespace } : {}) });
  }

  return {
    get() {
      if (client) return Promise.resolve(client);
      connecting ??= connect().then(
        (connected) => {
          client = connected;
          connecting = undefined;
          return connected;
        },
        (error: unknown) => {
          connecting = undefined;
          throw error;
        },
      );
      return connecting;
    },
    get connects() {
      return connects;
    },
    async close() {
      await client?.connection.close();
      client = undefined;
    },
  };
}
