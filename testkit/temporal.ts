import type { AnswerStreams } from '../worker/replies/answer-stream.ts';
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, type RuntimeOptions } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import type { ToolDefinition } from '../authoring/define-tool.ts';
import { createCachedStore, type CachedTranscriptStore } from '../store/cached-store.ts';
import { createLocalDirectoryStore } from '../store/local-directory-store.ts';
import { testDataConverter } from './payload-keys.ts';
import { createAgentWorker, type AgentWorker, type AgentWorkerOptions } from '../worker/create-worker.ts';

export const temporalAddress = inject('temporalAddress');
/** Use as `describe.skipIf(noTemporal)`: true only outside CI when the server could not start. */
export const noTemporal = temporalAddress === '';

let runtimeInstalled = false;

export interface TemporalTestContext {
  client: Client;
  connection: NativeConnection;
  /** A task queue no other test uses. */
  taskQueue(prefix?: string): string;
  /** Starts a worker on the shared bundle; it stops after the file's tests. */
  /** The transcript store the file's workers share (a temporary folder). */
  store: CachedTranscriptStore;
  startWorker(
    options: { taskQueue: string; tools: ToolDefinition[]; modelUrl: string; answerStreams?: AnswerStreams } & Partial<AgentWorkerOptions>,
  ): Promise<AgentWorker>;
}

/**
 * Connects a test file to the shared dev server; closes everything after the file.
 * `runtime`: options of the process's Temporal Runtime (a metrics exporter), installed once.
 */
export function useTemporal(options: { runtime?: RuntimeOptions } = {}): TemporalTestContext {
  const context = {} as TemporalTestContext;
  const running: { worker: AgentWorker; done: Promise<void> }[] = [];
  let clientConnection: Connection | undefined;

  beforeAll(async () => {
    if (noTemporal) return;
    if (!runtimeInstalled) {
      Runtime.install({ logger: new DefaultLogger('ERROR'), ...options.runtime });
      runtimeInstalled = true;
    }
    context.connection = await NativeConnection.connect({ address: temporalAddress });
    clientConnection = await Connection.connect({ address: temporalAddress });
    context.client = new Client({ connection: clientConnection, dataConverter: testDataConverter });
    context.store = createCachedStore(createLocalDirectoryStore({ directory: join(mkdtempSync(join(tmpdir(), 'transcripts-')), 'store') }));
    context.taskQueue = (prefix = 'test') => `${prefix}-${crypto.randomUUID()}`;
    context.startWorker = async ({ taskQueue, tools, modelUrl, answerStreams, ...rest }) => {
      const worker = await createAgentWorker({
        connection: context.connection,
        taskQueue,
        tools,
        model: { apiKey: 'test-key', baseUrl: modelUrl, store: context.store, ...(answerStreams ? { answerStreams } : {}) },
        workflowBundle: { code: inject('workflowBundleCode') },
        ...rest,
      });
      running.push({ worker, done: worker.run() });
      return worker;
    };
  });

  afterAll(async () => {
    for (const { worker, done } of running) {
      worker.shutdown();
      await done;
    }
    await clientConnection?.close();
    await context.connection?.close();
  });

  return context;
}
