import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type * as z from 'zod';
import { loadSettingsFrom } from '../config/load-settings.ts';
import { encryptedDataConverter } from '../temporal-client/payload-encryption.ts';
import { localPayloadKeysOrExit } from '../local/payload-keys.ts';

/**
 * A command-line tool's Temporal client, from the TEMPORAL_* settings (envconfig), with the
 * payload keys of PAYLOAD_KEYS or the data directory's key file (schedules' memos and inputs
 * are encrypted); when the server cannot be reached, one line naming the address and `fix`,
 * and exit code 1.
 */
export async function connectOrExit(address: string, fix: string): Promise<{ connection: Connection; client: Client }> {
  const dataConverter = encryptedDataConverter(localPayloadKeysOrExit(process.env));
  try {
    const config = loadClientConnectConfig();
    const connection = await Connection.connect({ ...config.connectionOptions, connectTimeout: '5 seconds' });
    return { connection, client: new Client({ connection, dataConverter, ...(config.namespace ? { namespace: config.namespace } : {}) }) };
  } catch (error) {
    console.error(`Cannot reach Temporal at ${address} (${errorLine(error)}). ${fix}`);
    process.exit(1);
  }
}

/**
 * A command-line tool's settings, read with `schema` (which must hold TEMPORAL_ADDRESS), and
 * its Temporal client. A bad or missing setting is one line and exit code 2; an unreachable
 * server, one line and exit code 1.
 */
export async function settingsAndClientOrExit<Schema extends z.ZodType<{ TEMPORAL_ADDRESS?: string | undefined }>>(
  schema: Schema,
  program: string,
): Promise<{ settings: z.infer<Schema>; connection: Connection; client: Client }> {
  let settings: z.infer<Schema>;
  try {
    settings = loadSettingsFrom(schema, process.env, program);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  if (!settings.TEMPORAL_ADDRESS) {
    console.error(
      'Set TEMPORAL_ADDRESS (e.g. TEMPORAL_ADDRESS=127.0.0.1:7233) to reach Temporal; for a local try, run the local stack (npm start) and point TEMPORAL_ADDRESS at its dev server.',
    );
    process.exit(2);
  }
  return {
    settings,
    ...(await connectOrExit(settings.TEMPORAL_ADDRESS, 'Check TEMPORAL_ADDRESS, or start the local stack with npm start.')),
  };
}

/** An error's first line, with a gRPC failure's details. */
export function errorLine(error: unknown): string {
  const cause = (error as { cause?: { details?: string } }).cause?.details;
  const message = error instanceof Error ? error.message : String(error);
  return `${message}${cause ? `: ${cause}` : ''}`.split('\n')[0]!;
}
