import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { encryptedDataConverter } from '../client/payload-encryption.ts';
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

/** An error's first line, with a gRPC failure's details. */
export function errorLine(error: unknown): string {
  const cause = (error as { cause?: { details?: string } }).cause?.details;
  const message = error instanceof Error ? error.message : String(error);
  return `${message}${cause ? `: ${cause}` : ''}`.split('\n')[0]!;
}
