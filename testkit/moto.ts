import { spawn, type ChildProcess } from 'node:child_process';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../local/free-port.ts';

export { freePort };

export interface MotoServer {
  /** e.g. http://127.0.0.1:45123: pass as `endpoint` to every `@aws-sdk/client-*`. */
  endpoint: string;
  stop(): Promise<void>;
}

/** Credentials and region for clients pointed at moto. */
export const MOTO_CLIENT_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
} as const;

/**
 * Starts moto's AWS server (`pip install 'moto[server]'`) on a free port, with `env` added to
 * its environment (e.g. `INITIAL_NO_AUTH_ACTION_COUNT`, which turns on its IAM checks). Under CI=true a
 * missing moto fails the test; elsewhere it throws too, naming the install command.
 */
export async function startMoto(options: { env?: Record<string, string> } = {}): Promise<MotoServer> {
  const port = await freePort();
  const command = process.env.MOTO_SERVER_PATH ?? 'moto_server';
  const child: ChildProcess = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`Cannot run ${command} (pip install 'moto[server]'): ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${stderr}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await Promise.race([
      fetch(`${endpoint}/moto-api/`).then(
        (response) => response.ok,
        () => false,
      ),
      exited,
    ]);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  exited.catch(() => undefined);
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Stores `value` as a new secret in moto's Secrets Manager and returns its ARN: what a function's `…_SECRET_ARN` names. */
export async function createMotoSecret(endpoint: string, value: string, region: string = MOTO_CLIENT_CONFIG.region): Promise<string> {
  const { CreateSecretCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({ ...MOTO_CLIENT_CONFIG, region, endpoint });
  try {
    return (await client.send(new CreateSecretCommand({ Name: `secret-${crypto.randomUUID()}`, SecretString: value }))).ARN!;
  } finally {
    client.destroy();
  }
}

export interface MotoBucket {
  endpoint: string;
  /** An S3 client pointed at moto, path-style. */
  client: S3Client;
  bucket: string;
  stop(): Promise<void>;
}

/** moto with one empty bucket, and a client for it: the S3 of a store's test. */
export async function startMotoBucket(bucket: string): Promise<MotoBucket> {
  const moto = await startMoto();
  const client = new S3Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint, forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint: moto.endpoint,
    client,
    bucket,
    stop: async () => {
      client.destroy();
      await moto.stop();
    },
  };
}
