import { Client, Connection, type ClientInterceptors } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import * as z from 'zod';
import { connectTo, temporalTargetFrom } from '../../temporal-client/temporal-connection.ts';
import type { Environment } from '../../config/load-settings.ts';
import type { Log } from '../shared/log.ts';
import { loadSecrets, type SecretReader, type SecretSet } from '../shared/secrets.ts';

export interface TemporalClientProviderOptions {
  /** The variables `@temporalio/envconfig` reads (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, …): the entry's environment. */
  env: Environment;
  /** With `secretArn`: reads the secret (`secretsManagerReaderFrom(process.env)` in the Lambda). */
  readSecret?: SecretReader;
  /** ARN of a JSON secret `{ "tlsCert": "...", "tlsKey": "...", "apiKey"?: "..." }` (`TEMPORAL_SECRET_ARN`). */
  secretArn?: string;
  /** @default 5000 ms */
  connectTimeoutMs?: number;
  /** Least time between two reads of the secret after failed connects (a rotated certificate). @default 30 000 ms */
  minSecretRefreshIntervalMs?: number;
  /** @default jsonLog */
  log?: Log;
  /** The client's interceptors (the OpenTelemetry one, so starts and updates carry the trace). @default none */
  interceptors?: ClientInterceptors;
  /** How payloads are written and read (`encryptedDataConverter`, the worker's keys). @default the SDK's: in clear */
  dataConverter?: DataConverter;
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
 * remembered, so the next invocation tries again instead of failing for the container's life;
 * and the secret is read again (at most once per interval), so a rotated certificate is
 * picked up without a deploy. Failures are one line naming what to fix.
 */
export function createTemporalClientProvider(options: TemporalClientProviderOptions): TemporalClientProvider {
  let client: Client | undefined;
  let connecting: Promise<Client> | undefined;
  let secret: SecretSet<'temporal'> | undefined;
  let connects = 0;
  const secretArn = options.secretArn;
  const names = {
    clientCert: `the tlsCert of TEMPORAL_SECRET_ARN (${secretArn})`,
    clientKey: `the tlsKey of TEMPORAL_SECRET_ARN (${secretArn})`,
    apiKey: `the apiKey of TEMPORAL_SECRET_ARN (${secretArn})`,
  };

  async function secretVariables(): Promise<Record<string, string>> {
    if (!secretArn) return {};
    if (!options.readSecret) throw new Error('TEMPORAL_SECRET_ARN is set but no Secrets Manager reader was given');
    secret ??= await loadSecrets({
      read: options.readSecret,
      secrets: { temporal: { variable: 'TEMPORAL_SECRET_ARN', arn: secretArn } },
      ...(options.minSecretRefreshIntervalMs !== undefined ? { minRefreshIntervalMs: options.minSecretRefreshIntervalMs } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(secret.values.temporal);
    } catch {
      throw new Error(
        `Secret ${secretArn} (TEMPORAL_SECRET_ARN) is not JSON; expected { "tlsCert": "...", "tlsKey": "..." } or { "apiKey": "..." }`,
      );
    }
    const checked = temporalSecretSchema.safeParse(parsed);
    if (!checked.success)
      throw new Error(`Secret ${secretArn} (TEMPORAL_SECRET_ARN) ${checked.error.issues[0]?.message ?? 'is malformed'}`);
    return {
      ...(checked.data.tlsCert
        ? { TEMPORAL_TLS_CLIENT_CERT_DATA: checked.data.tlsCert, TEMPORAL_TLS_CLIENT_KEY_DATA: checked.data.tlsKey as string }
        : {}),
      ...(checked.data.apiKey ? { TEMPORAL_API_KEY: checked.data.apiKey } : {}),
    };
  }

  async function connect(): Promise<Client> {
    const target = temporalTargetFrom(options.env, await secretVariables(), secretArn ? names : {});
    connects += 1;
    try {
      const connection = await connectTo(target, (connectionOptions) =>
        Connection.connect({ ...connectionOptions, connectTimeout: options.connectTimeoutMs ?? 5000 }),
      );
      return new Client({
        connection,
        namespace: target.namespace,
        ...(options.interceptors ? { interceptors: options.interceptors } : {}),
        ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
      });
    } catch (error) {
      // A rotated certificate or key: the next attempt reads the secret again (rate-limited).
      await secret?.refreshAfterFailure();
      throw error;
    }
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
