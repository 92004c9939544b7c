import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { createEmailBatchHandler } from '../../functions/email/email-batch.ts';
import { silentLog } from '../../functions/shared/log.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { startGeminiServer, type GeminiReply, type GeminiRequest, type GeminiServer } from '../../local/gemini-server.ts';
import { serveOnNode } from '../../local/node-server.ts';
import { startPersistentDevServer, type LocalTemporal } from '../../local/persistent-dev-server.ts';
import { startSlackApiServer, type SlackApiServer, type SlackStoredMessage } from '../../local/slack-api-server.ts';
import { findTemporalCli } from '../../local/temporal-dev-server.ts';
import { freePort } from '../../local/free-port.ts';
import { createEmailThreadIndex } from '../../store/email-thread-index.ts';
import { recordFilesFor } from '../../store/record-files.ts';
import { transcriptStoreSettingsSchema } from '../../config/transcript-store-settings.ts';
import { APPROVAL_SECRET, REPLY_SECRET, emailConfig, motoEventQueue, queueDepth, slackConfig } from '../../testkit/ingress.ts';
import { MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';
import { TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';
import { onceReady, startWorkerProcess } from '../../testkit/worker-process.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const TEAM = 'T0FAULTS';
export const BOT = 'U0FAULTBOT';
export const PERSON = 'U0ANA';
export const CHANNEL = 'C0FAULTS';
export const BOT_TOKEN = 'xoxb-faults-token';
export const TASK_QUEUE = 'faults';
export const TRANSCRIPT_BUCKET = 'faults-transcripts';
export const INBOUND_BUCKET = 'faults-inbound-mail';
/** SQS's and the CDK stack's default: past five receives a message is a dead letter. */
const MAX_RECEIVE_COUNT = 5;

/** Switches the harness flips to make the stand-ins misbehave, and hooks that see their requests. */
export interface StandInControls {
  /** What the model answers instead of its script (503, or 429 with Retry-After); undefined: the script. */
  modelFault?: { status: number; retryAfterSeconds?: number };
  /** Sees each model request before it is answered; may add a delay (a request held open). */
  onModelRequest?: (request: GeminiRequest) => { delayMs?: number } | void;
  /** Sees each tool request (the IP service) before it is answered; may add a delay. */
  onToolRequest?: (ip: string) => { delayMs?: number } | void;
  /** Sees every Slack message added or edited, synchronously, before the caller gets its answer (the counting, for the whole run). */
  recordSlack?: (message: SlackStoredMessage) => void;
  /** The same, for one row's fault. */
  onSlackChange?: (message: SlackStoredMessage) => void;
  /** What Slack answers instead (5xx, or 429 with Retry-After) for a method; undefined: the method. */
  slackFault?: (method: string) => { status: number; headers?: Record<string, string> } | undefined;
}

/** A child process the harness kills and starts again. */
export interface Restartable {
  readonly pid: number | undefined;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

export interface FaultStack {
  runDir: string;
  moto: MotoServer;
  slack: SlackApiServer;
  model: GeminiServer;
  /** Requests the IP service saw, per IP, in order. */
  toolRequests: Map<string, number>;
  controls: StandInControls;
  /** The Slack edge's base URL (functions/slack's app, SQS through `sqsProxy`). */
  edgeUrl: string;
  /** The email edge's batch handler, fed one SES notification at a time. */
  receiveEmail: ReturnType<typeof createEmailBatchHandler>;
  s3: S3Client;
  sqsProxy: FaultProxy;
  s3Proxy: FaultProxy;
  /** With `proxyTemporal`: the worker's and the dispatcher's route to the dev server, which `cut()` severs. */
  temporalProxy?: FaultProxy;
  worker: Restartable;
  dispatcher: Restartable;
  temporal: Restartable & { client(): Client };
  /** Messages in the dead-letter queue now. */
  deadLetters(): Promise<number>;
  /** Where the worker writes the expenses file (the approval row's side effect). */
  expensesFile: string;
  close(): Promise<void>;
}

export interface FaultStackOptions {
  runDir: string;
  /** Answers the model's requests when no fault is switched on. */
  script: (request: GeminiRequest) => GeminiReply;
  log: (line: string) => void;
  /** Puts a fault proxy between the dev server and the worker and dispatcher (`npm run soak` cuts it). @default false */
  proxyTemporal?: boolean;
  /** More of the worker's settings, e.g. `WORKER_MAX_CACHED_WORKFLOWS` (`npm run soak` bounds its cache). @default none */
  workerSettings?: Record<string, string>;
}

/**
 * The local stack of `npm run faults`: the dev server persisted to disk, the worker
 * (`worker/main.ts`) and the dispatcher (`local/dispatch.ts`) as their own processes, moto for
 * SQS, S3 and SES (S3 and the edge's SQS through fault proxies), the Gemini, Slack and IP
 * service stand-ins, and the Slack and email edges in this process.
 */
export async function startFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  const closers: (() => Promise<unknown>)[] = [];
  try {
    return await assemble(options, closers);
  } catch (error) {
    // A part that did not start leaves none of the others running.
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
    throw error;
  }
}

async function assemble(options: FaultStackOptions, closers: (() => Promise<unknown>)[]): Promise<FaultStack> {
  const { runDir, log } = options;
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  const controls: StandInControls = {};

  const moto = await startMoto();
  closers.push(() => moto.stop());
  const motoPort = Number(new URL(moto.endpoint).port);
  const aws = { ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const sqs = new SQSClient(aws);
  const ses = new SESv2Client(aws);
  await s3.send(new CreateBucketCommand({ Bucket: TRANSCRIPT_BUCKET }));
  await s3.send(new CreateBucketCommand({ Bucket: INBOUND_BUCKET }));
  await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'agents.example.com' }));
  const deadLetterUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'faults-dlq.fifo', Attributes: { FifoQueue: 'true' } })))
    .QueueUrl!;
  const deadLetterArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  const queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: 'faults-ingress.fifo',
        Attributes: {
          FifoQueue: 'true',
          ContentBasedDeduplication: 'false',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: MAX_RECEIVE_COUNT }),
        },
      }),
    )
  ).QueueUrl!;
  const sqsProxy = await startFaultProxy({ host: '127.0.0.1', port: motoPort });
  const s3Proxy = await startFaultProxy({ host: '127.0.0.1', port: motoPort });
  closers.push(
    () => sqsProxy.close(),
    () => s3Proxy.close(),
  );

  const model = await startGeminiServer({
    respond: async (request) => {
      const hooked = controls.onModelRequest?.(request);
      const fault = controls.modelFault;
      const reply: GeminiReply = fault
        ? {
            status: fault.status,
            message:
              fault.status === 429 ? 'Resource has been exhausted (e.g. check quota).' : 'The model is overloaded. Please try again later.',
            ...(fault.retryAfterSeconds ? { headers: { 'retry-after': String(fault.retryAfterSeconds) } } : {}),
          }
        : options.script(request);
      return hooked?.delayMs ? { ...reply, delayMs: hooked.delayMs } : reply;
    },
  });
  closers.push(() => model.close());

  const toolRequests = new Map<string, number>();
  const ipService: Server = createServer((request, response) => {
    const ip = decodeURIComponent(/^\/json\/(.+)$/.exec(request.url ?? '')?.[1] ?? '');
    toolRequests.set(ip, (toolRequests.get(ip) ?? 0) + 1);
    const delayMs = controls.onToolRequest?.(ip)?.delayMs ?? 0;
    setTimeout(() => {
      if (response.destroyed) return;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          status: 'success',
          query: ip,
          city: 'Faultville',
          regionName: 'Nowhere',
          region: 'NW',
          country: 'Testland',
          lat: 0,
          lon: 0,
          timezone: 'UTC',
        }),
      );
    }, delayMs);
  });
  await new Promise<void>((resolve) => ipService.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => (ipService.closeAllConnections(), ipService.close(resolve))));
  const ipServiceUrl = `http://127.0.0.1:${(ipService.address() as AddressInfo).port}`;

  const slack = await startSlackApiServer({
    tokens: [BOT_TOKEN],
    botUserId: BOT,
    teamId: TEAM,
    onChange: (message) => {
      controls.recordSlack?.(message);
      controls.onSlackChange?.(message);
    },
    intercept: (method) => controls.slackFault?.(method),
  });
  closers.push(() => slack.close());

  // Temporal: the persisted dev server, restarted on the same port after a kill.
  const temporalCli = findTemporalCli(process.env);
  const temporalPort = await freePort();
  const dataDir = join(runDir, 'temporal');
  let temporal: LocalTemporal = await startPersistentDevServer({
    dataDir,
    owner: 'npm run faults',
    ui: false,
    port: temporalPort,
    ...(temporalCli ? { executable: temporalCli } : {}),
  });
  let temporalDown = false;
  // Whichever server runs at the end (the first, or one started after a kill) is stopped last but moto.
  closers.push(async () => {
    if (!temporalDown) await temporal.stop();
  });
  // The dev server comes back on the same port after a kill, so a proxy in front of it stays valid.
  const temporalProxy = options.proxyTemporal ? await startFaultProxy({ host: '127.0.0.1', port: temporalPort }) : undefined;
  if (temporalProxy) closers.push(() => temporalProxy.close());
  const temporalAddress = temporalProxy ? new URL(temporalProxy.url).host : temporal.address;

  // The Slack edge: functions/slack's app with the Lambda's own signed SQS call, through the proxy.
  const edge = await serveOnNode(
    createSlackApp({
      config: slackConfig(queueUrl),
      queue: motoEventQueue(queueUrl, { endpoint: sqsProxy.url, timeoutMs: 2500 }),
      log: silentLog,
    }),
    0,
  );
  closers.push(() => new Promise((resolve) => (edge.closeAllConnections(), edge.close(resolve))));
  const edgeUrl = `http://127.0.0.1:${(edge.address() as AddressInfo).port}`;

  // The email edge: reads SES's stored message from S3, queues through the proxy too.
  const transcripts = transcriptStoreSettingsSchema.parse({
    TRANSCRIPT_STORE: 's3',
    TRANSCRIPT_BUCKET,
    AWS_ENDPOINT_URL_S3: moto.endpoint,
  });
  const receiveEmail = createEmailBatchHandler({
    config: emailConfig(queueUrl),
    s3,
    queue: motoEventQueue(queueUrl, { endpoint: sqsProxy.url }),
    threads: createEmailThreadIndex(recordFilesFor(transcripts, { s3Client: s3 })),
    log: silentLog,
  });

  const awsEnv = {
    AWS_REGION: MOTO_CLIENT_CONFIG.region,
    AWS_ACCESS_KEY_ID: MOTO_CLIENT_CONFIG.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CLIENT_CONFIG.credentials.secretAccessKey,
  };
  const workerDir = join(runDir, 'worker');
  mkdirSync(workerDir, { recursive: true });
  const workerEnv = {
    ...awsEnv,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    SCHEDULES_SYNC_AT_START: 'false',
    GOOGLE_API_KEY: 'faults-key',
    GEMINI_BASE_URL: model.url,
    IP_API_BASE_URL: ipServiceUrl,
    TRANSCRIPT_STORE: 's3',
    TRANSCRIPT_BUCKET,
    AWS_ENDPOINT_URL_S3: s3Proxy.url,
    AWS_ENDPOINT_URL_SESV2: moto.endpoint,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_API_URL: slack.url,
    APPROVAL_TOKEN_SECRET: APPROVAL_SECRET,
    EMAIL_REPLY_TOKEN_SECRET: REPLY_SECRET,
    ...options.workerSettings,
  };
  const workerLog = createWriteStream(join(runDir, 'logs', 'worker.log'), { flags: 'a' });
  const worker = restartable('worker', log, async () => {
    const child = await startWorkerProcess(workerEnv, { cwd: workerDir });
    pipeTo(child, workerLog);
    return child;
  });
  closers.push(() => worker.kill());
  await worker.start();

  const dispatcherLog = createWriteStream(join(runDir, 'logs', 'dispatcher.log'), { flags: 'a' });
  const dispatcher = restartable('dispatcher', log, () =>
    startDispatcher(
      {
        ...awsEnv,
        AWS_ENDPOINT_URL_SQS: moto.endpoint,
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_TASK_QUEUE: TASK_QUEUE,
        TEMPORAL_CONNECT_TIMEOUT_MS: '2000',
        APPROVAL_TOKEN_SECRET: APPROVAL_SECRET,
        // The worker's keys (startWorkerProcess sets the same): without them the dispatcher seals with a local key the worker cannot open.
        PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON,
        DISPATCH_QUEUE_URL: queueUrl,
        DISPATCH_WAIT_SECONDS: '1',
        // A record that is not deleted (a killed dispatcher, Temporal away) comes back this soon.
        DISPATCH_VISIBILITY_TIMEOUT_SECONDS: '15',
        DISPATCH_UPDATE_TIMEOUT_MS: '10000',
      },
      dispatcherLog,
    ),
  );
  closers.push(() => dispatcher.kill());
  await dispatcher.start();

  const temporalControl: Restartable & { client(): Client } = {
    get pid() {
      return temporal.pid;
    },
    client: () => temporal.client,
    async kill() {
      const pid = temporal.pid;
      if (pid === undefined)
        throw new Error('the dev server runs through the SDK here, and cannot be killed by pid: set TEMPORAL_CLI_PATH');
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
      temporalDown = true;
      await temporal.stop().catch(() => undefined);
      log(`temporal: killed (pid ${pid})`);
    },
    async start() {
      temporal = await startPersistentDevServer({
        dataDir,
        owner: 'npm run faults',
        ui: false,
        port: temporalPort,
        ...(temporalCli ? { executable: temporalCli } : {}),
      });
      temporalDown = false;
      log(`temporal: started again on ${temporal.address} (pid ${temporal.pid})`);
    },
  };

  return {
    runDir,
    moto,
    slack,
    model,
    toolRequests,
    controls,
    edgeUrl,
    receiveEmail,
    s3,
    sqsProxy,
    s3Proxy,
    ...(temporalProxy ? { temporalProxy } : {}),
    worker,
    dispatcher,
    temporal: temporalControl,
    expensesFile: join(workerDir, '.data', 'expenses.jsonl'),
    deadLetters: () => queueDepth(sqs, deadLetterUrl),
    async close() {
      for (const closer of closers.reverse()) await closer().catch(() => undefined);
      for (const client of [s3, sqs, ses]) client.destroy();
      workerLog.end();
      dispatcherLog.end();
    },
  };
}

function restartable(name: string, log: (line: string) => void, start: () => Promise<ChildProcess>): Restartable {
  let child: ChildProcess | undefined;
  return {
    get pid() {
      return child?.pid;
    },
    async kill() {
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise((resolve) => current.once('exit', resolve));
      current.kill('SIGKILL');
      await exited;
      log(`${name}: killed (pid ${current.pid})`);
    },
    async start() {
      const started = Date.now();
      child = await start();
      log(`${name}: polling (pid ${child.pid}, ${((Date.now() - started) / 1000).toFixed(1)} s to start)`);
    },
  };
}

/** `npm run dispatch`'s entry as its own process; resolves once it polls. */
function startDispatcher(env: Record<string, string>, logFile: WriteStream): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['local/dispatch.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  pipeTo(child, logFile);
  return onceReady(child, 'dispatch polling', 'dispatcher');
}

function pipeTo(child: ChildProcess, file: WriteStream): void {
  child.stdout?.on('data', (chunk: Buffer) => file.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => file.write(chunk));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
