import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { ToolDefinition } from '../authoring/define-tool.ts';
import { startGeminiServer, type GeminiResponder, type GeminiServer } from '../local/gemini-server.ts';
import { findTemporalCli, startDevServer, type DevServer } from '../local/temporal-dev-server.ts';
import { createCachedStore, type CachedTranscriptStore } from '../store/cached-store.ts';
import { createLocalDirectoryStore } from '../store/local-directory-store.ts';
import { createAgentWorker, type AgentWorker, type AgentWorkerOptions } from '../worker/create-worker.ts';
import { createNaiveActivities } from './naive/activities.ts';

/** The bench's workflow index: `agentRun` and the naive loop. */
export const BENCH_WORKFLOWS_PATH = fileURLToPath(new URL('./workflows.ts', import.meta.url));
export const API_KEY = 'bench-key';

let runtimeInstalled = false;

/** Worker logs at ERROR: the tables are the output. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  // Core's warnings (TMPRL1103: the naive loop's payloads pass 512 KB) would bury the tables.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  runtimeInstalled = true;
}

/** A dev server, a transcript store in a temporary folder, and a scripted model: what every part needs. */
export interface BenchEnvironment {
  server: DevServer;
  client: Client;
  connection: NativeConnection;
  address: string;
  store: CachedTranscriptStore;
  storeDirectory: string;
  model: GeminiServer;
  close(): Promise<void>;
}

export interface BenchEnvironmentOptions {
  /** Dynamic config values for the dev server; without them it is `startDevServer()`'s, as tests and `npm start` run it (`{}`: the server's own defaults). */
  dynamicConfig?: Record<string, string | number | boolean>;
}

export async function startBenchEnvironment(respond: GeminiResponder, options: BenchEnvironmentOptions = {}): Promise<BenchEnvironment> {
  installQuietRuntime();
  const server = await startDevServer({
    executable: findTemporalCli(process.env),
    ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}),
  });
  const root = mkdtempSync(join(tmpdir(), 'bench-transcripts-'));
  const storeDirectory = join(root, 'store');
  const model = await startGeminiServer({ apiKey: API_KEY, respond });
  // The naive loop's history pages pass gRPC's default 4 MB limit on messages received.
  const clientConnection = await Connection.connect({
    address: server.address,
    channelArgs: { 'grpc.max_receive_message_length': 512 * 1024 * 1024 },
  });
  return {
    server,
    client: new Client({ connection: clientConnection }),
    connection: server.env.nativeConnection,
    address: server.address,
    store: createCachedStore(createLocalDirectoryStore({ directory: storeDirectory })),
    storeDirectory,
    model,
    close: async () => {
      await model.close();
      await clientConnection.close();
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface RunningWorkers {
  taskQueue: string;
  /** Task queue of the naive loop's activities. */
  naiveTaskQueue: string;
  stop(): Promise<void>;
}

/**
 * The agent worker on the bench's workflow index, plus a worker for the naive loop's
 * activities on `<taskQueue>-naive`, all in this process.
 */
export async function startBenchWorkers(
  environment: BenchEnvironment,
  tools: ToolDefinition[],
  options: Pick<AgentWorkerOptions, 'tuning' | 'modelTuning'> = {},
): Promise<RunningWorkers> {
  const taskQueue = `bench-${crypto.randomUUID()}`;
  const naiveTaskQueue = `${taskQueue}-naive`;
  const agent: AgentWorker = await createAgentWorker({
    connection: environment.connection,
    taskQueue,
    tools,
    model: { apiKey: API_KEY, baseUrl: environment.model.url, store: environment.store },
    workflowsPath: BENCH_WORKFLOWS_PATH,
    ...options,
  });
  const naive = await Worker.create({
    connection: environment.connection,
    taskQueue: naiveTaskQueue,
    activities: { ...createNaiveActivities({ apiKey: API_KEY, baseUrl: environment.model.url, tools }) },
  });
  const done = Promise.all([agent.run(), naive.run()]);
  return {
    taskQueue,
    naiveTaskQueue,
    stop: async () => {
      agent.shutdown();
      naive.shutdown();
      await done;
    },
  };
}

/** A dev server like `startDevServer()`'s, with dynamic config values set. */
