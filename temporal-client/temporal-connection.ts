import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import type { Environment } from '../config/load-settings.ts';
import { explainConnectFailure } from './connection-diagnosis.ts';

/** Temporal could not be reached or refused us; the message is one line naming the setting to fix. */
export class TemporalConnectionError extends Error {
  override name = 'TemporalConnectionError';
}

/** The names an error should use for each connection setting: the variables, or where else a value came from. */
export interface SettingNames {
  address: string;
  namespace: string;
  clientCert: string;
  clientKey: string;
  serverCa: string;
  serverName: string;
  apiKey: string;
}

/** Where and how to connect, as `@temporalio/envconfig` read it, with the settings' names for errors. */
export interface TemporalTarget {
  /** `host:port`. */
  address: string;
  namespace: string;
  /** For `Connection.connect` (client) and `NativeConnection.connect` (worker) alike. */
  connectionOptions: ClientConnectConfig['connectionOptions'];
  names: SettingNames;
}

/**
 * Reads the connection the way the Temporal CLI does (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
 * `TEMPORAL_TLS_CLIENT_CERT_PATH`/`_DATA`, `TEMPORAL_TLS_CLIENT_KEY_PATH`/`_DATA`,
 * `TEMPORAL_TLS_SERVER_CA_CERT_PATH`/`_DATA`, `TEMPORAL_TLS_SERVER_NAME`, `TEMPORAL_API_KEY`,
 * `TEMPORAL_PROFILE`, …). `overrides` are variables that come from elsewhere (the dispatcher's
 * secret) and `names` what to call them in errors. A file that cannot be read throws a
 * `TemporalConnectionError` naming its variable.
 */
export function temporalTargetFrom(
  env: Environment,
  overrides: Record<string, string> = {},
  names: Partial<SettingNames> = {},
): TemporalTarget {
  const variables = Object.fromEntries(
    Object.entries({ ...env, ...overrides }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  let config: ClientConnectConfig;
  try {
    config = loadClientConnectConfig({ overrideEnvVars: variables });
  } catch (error) {
    throw new TemporalConnectionError(unreadableSetting(error as NodeJS.ErrnoException, variables));
  }
  const named = (variable: string) =>
    variables[`${variable}_PATH`] !== undefined
      ? `${variable}_PATH`
      : variables[`${variable}_DATA`] !== undefined
        ? `${variable}_DATA`
        : `${variable}_PATH`;
  return {
    address: config.connectionOptions.address ?? 'localhost:7233',
    namespace: config.namespace ?? 'default',
    connectionOptions: config.connectionOptions,
    names: {
      address: 'TEMPORAL_ADDRESS',
      namespace: 'TEMPORAL_NAMESPACE',
      clientCert: named('TEMPORAL_TLS_CLIENT_CERT'),
      clientKey: named('TEMPORAL_TLS_CLIENT_KEY'),
      serverCa: named('TEMPORAL_TLS_SERVER_CA_CERT'),
      serverName: 'TEMPORAL_TLS_SERVER_NAME',
      apiKey: 'TEMPORAL_API_KEY',
      ...names,
    },
  };
}

/**
 * Connects with `connect` (`Connection.connect` or `NativeConnection.connect`); a failure
 * becomes a `TemporalConnectionError` whose one line says what to fix, found by looking at
 * the failure, the certificate, and the TLS handshake itself.
 */
export async function connectTo<Connection>(
  target: TemporalTarget,
  connect: (options: TemporalTarget['connectionOptions']) => Promise<Connection>,
): Promise<Connection> {
  try {
    return await connect(target.connectionOptions);
  } catch (error) {
    throw new TemporalConnectionError(await explainConnectFailure(target, error as Error));
  }
}

function unreadableSetting(error: NodeJS.ErrnoException, variables: Record<string, string>): string {
  const variable = error.path
    ? Object.keys(variables).find((name) => name.startsWith('TEMPORAL_') && variables[name] === error.path)
    : undefined;
  if (variable) return `${variable}=${error.path} cannot be read (${error.code ?? error.message}): point it at the PEM file, or unset it.`;
  return `The Temporal connection settings are invalid: ${firstLine(error.message)}. Check the TEMPORAL_* variables (or TEMPORAL_CONFIG_FILE).`;
}

export function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
