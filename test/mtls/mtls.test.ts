import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptedDataConverter } from '../../temporal-client/payload-encryption.ts';
import { createDispatchBatchHandler } from '../../functions/dispatch/dispatch-batch.ts';
import { createTemporalClientProvider, type TemporalClientProvider } from '../../functions/dispatch/temporal-client.ts';
import { createSecretsManagerReader } from '../../functions/shared/secrets.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { dispatchConfig, slackMessageEvent, sqsRecord } from '../dispatch/support.ts';
import { MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';
import { TEST_PAYLOAD_KEYS, TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';
import { answer, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, temporalAddress } from '../../testkit/temporal.ts';
import { createTestCertificates, type CertificateFiles, type TestCertificates } from './certificates.ts';
import { startTlsFront, type TlsFront } from './tls-front.ts';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of the project's programs as its own process, with only the given environment (and PATH). */
function run(
  args: string[],
  env: Record<string, string>,
  until?: RegExp,
): { child: ChildProcess; exited: Promise<Exited>; ready: Promise<void> } {
  const child = spawn(process.execPath, args, {
    cwd: REPOSITORY,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (until?.test(stderr)) markReady();
  });
  const exited = new Promise<Exited>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  const readyOrExited = Promise.race([
    ready,
    exited.then((result) => Promise.reject(new Error(`exited (${result.code}) before it was ready:\n${result.stderr}`))),
  ]);
  // Only a caller that waits for readiness cares that the program exited first.
  readyOrExited.catch(() => undefined);
  return { child, exited, ready: readyOrExited };
}

/** Expected failures: a non-zero exit and exactly one line on stderr, naming `setting`, with no stack frame. */
function expectOneLineNaming(result: Exited, setting: string): void {
  expect(result.code, result.stderr).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toContain(setting);
  expect(result.stderr).not.toMatch(/^ {4}at /m);
}

describe.skipIf(noTemporal)('Temporal over mutual TLS: the dev server behind a front that verifies client certificates', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'mtls-'));
  let certificates: TestCertificates;
  let front: TlsFront;
  let model: GeminiServer;
  let moto: MotoServer;
  let worker: ChildProcess | undefined;
  const providers: TemporalClientProvider[] = [];
  const taskQueue = `mtls-${crypto.randomUUID()}`;

  /** What envconfig reads for a client presenting `client` (or none) to the front. */
  const tlsEnv = (client?: CertificateFiles): Record<string, string> => ({
    TEMPORAL_ADDRESS: front.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certificates.ca.cert,
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
    ...(client ? { TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: client.key } : {}),
  });
  const workerEnv = (client?: CertificateFiles) => ({
    ...tlsEnv(client),
    TEMPORAL_TASK_QUEUE: taskQueue,
    GOOGLE_API_KEY: 'test-key',
    PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON,
    GEMINI_BASE_URL: model.url,
    TRANSCRIPT_DIR: join(scratch, 'transcripts'),
    // The registry's own schedules stay out of this test (test/ambient/cli.test.ts syncs them).
    SCHEDULES_SYNC_AT_START: 'false',
  });

  beforeAll(async () => {
    certificates = createTestCertificates(join(scratch, 'certificates'));
    front = await startTlsFront({ target: temporalAddress, server: certificates.server, clientCa: certificates.ca.cert });
    model = await startScriptedModel(() => answer('Hello from behind mutual TLS.'));
    moto = await startMoto();
  });
  afterAll(async () => {
    worker?.kill('SIGTERM');
    for (const provider of providers) await provider.close();
    await front?.close();
    await model?.close();
    await moto?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('the worker (worker/main.ts) connects with its certificate, and `npm run ask` gets an answer through it', async () => {
    const started = run(['worker/main.ts'], workerEnv(certificates.client), /Worker polling/);
    worker = started.child;
    await started.ready;
    expect(front.accepted).toContain('durable-agents worker');

    // The local program, pointed at the same Temporal, starts and follows a run that the worker process completes.
    const ask = run(['cli/ask.ts', 'Say hello'], { ...workerEnv(certificates.client), EMBEDDED_WORKER: 'false', TEMPORAL_UI: 'false' });
    const result = await ask.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Hello from behind mutual TLS.');
    expect(result.stderr).toContain(`Temporal: ${front.address}`);
  }, 180_000);

  it('the dispatcher reads its certificate and key from Secrets Manager and delivers an update-with-start', async () => {
    const secretsManager = new SecretsManagerClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
    const secret = async (pair: CertificateFiles) =>
      (
        await secretsManager.send(
          new CreateSecretCommand({
            Name: `temporal-${crypto.randomUUID()}`,
            SecretString: JSON.stringify({ tlsCert: readFileSync(pair.cert, 'utf8'), tlsKey: readFileSync(pair.key, 'utf8') }),
          }),
        )
      ).ARN!;
    const readSecret = createSecretsManagerReader({
      region: MOTO_CLIENT_CONFIG.region,
      credentials: () => MOTO_CLIENT_CONFIG.credentials,
      endpoint: moto.endpoint,
    });
    // In the Lambda the CA and server name are plain configuration; only the client's certificate and key are secret.
    const env = {
      TEMPORAL_ADDRESS: front.address,
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: readFileSync(certificates.ca.cert, 'utf8'),
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    };
    const dispatcher = (secretArn: string) => {
      const temporal = createTemporalClientProvider({
        env,
        readSecret,
        secretArn,
        connectTimeoutMs: 3000,
        dataConverter: encryptedDataConverter(TEST_PAYLOAD_KEYS),
      });
      providers.push(temporal);
      const logs: Record<string, unknown>[] = [];
      return { handler: createDispatchBatchHandler({ config: dispatchConfig(taskQueue), temporal, log: (line) => logs.push(line) }), logs };
    };

    const { handler, logs } = dispatcher(await secret(certificates.client));
    const event = slackMessageEvent({ text: 'hello over mTLS' });
    // The update is accepted only once the worker, over its own mTLS connection, has run the conversation's first task.
    expect((await handler({ Records: [sqsRecord(event)] })).batchItemFailures).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'delivered', conversationId: event.conversationId }));

    const expired = dispatcher(await secret(certificates.expiredClient));
    const record = sqsRecord(slackMessageEvent());
    expect((await expired.handler({ Records: [record] })).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(String(expired.logs.at(-1)?.detail)).toMatch(
      /refused the client certificate: the certificate in the tlsCert of TEMPORAL_SECRET_ARN \(arn:aws:secretsmanager:[^)]+\) expired on 2020-01-02/,
    );
    secretsManager.destroy();
  }, 120_000);

  it('a worker with no, a wrong-CA or an expired client certificate stops at the handshake with one line naming the setting', async () => {
    const [none, otherCa, expired] = await Promise.all([
      run(['worker/main.ts'], workerEnv()).exited,
      run(['worker/main.ts'], workerEnv(certificates.otherCaClient)).exited,
      run(['worker/main.ts'], workerEnv(certificates.expiredClient)).exited,
    ]);
    expectOneLineNaming(none, 'TEMPORAL_TLS_CLIENT_CERT_PATH');
    expect(none.stderr).toMatch(/asked for a client certificate and none was given/);
    expectOneLineNaming(otherCa, 'TEMPORAL_TLS_CLIENT_CERT_PATH');
    expect(otherCa.stderr).toMatch(/issued by CN=some other CA\) is not signed by a CA the server trusts/);
    expectOneLineNaming(expired, 'TEMPORAL_TLS_CLIENT_CERT_PATH');
    expect(expired.stderr).toMatch(/expired on 2020-01-02/);
    // Each was refused by the front, in the handshake.
    expect(front.refused.length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('`npm run ask` with an expired certificate, or a server it cannot trust, stops with one line too', async () => {
    const local = { EMBEDDED_WORKER: 'false', TEMPORAL_UI: 'false', TEMPORAL_TASK_QUEUE: taskQueue };
    const [expired, untrusted] = await Promise.all([
      run(['cli/ask.ts', 'hello'], { ...tlsEnv(certificates.expiredClient), ...local }).exited,
      run(['cli/ask.ts', 'hello'], {
        ...tlsEnv(certificates.client),
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certificates.otherCaClient.cert,
        ...local,
      }).exited,
    ]);
    expectOneLineNaming(expired, 'TEMPORAL_TLS_CLIENT_CERT_PATH');
    expectOneLineNaming(untrusted, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  }, 120_000);
});
