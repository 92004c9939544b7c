import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import type { ToolDefinition } from '../../core/define-tool.ts';
import { createAgentWorker, type AgentWorkerOptions } from '../../worker/create-worker.ts';

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
  startWorker(options: { taskQueue: string; tools: ToolDefinition[]; modelUrl: string } & Partial<AgentWorkerOptions>): Promise<Worker>;
}

/** Connects a test file to the shared dev server; closes everything after the file. */
export function useTemporal(): TemporalTestContext {
  const context = {} as TemporalTestContext;
  const running: { worker: Worker; done: Promise<void> }[] = [];
  let clientConnection: Connection | undefined;

  beforeAll(async () => {
    if (noTemporal) return;
    if (!runtimeInstalled) {
      Runtime.install({ logger: new DefaultLogger('WARN') });
      runtimeInstalled = true;
    }
    context.connection = await NativeConnection.connect({ address: temporalAddress });
    clientConnection = await Connection.connect({ address: temporalAddress });
    context.client = new Client({ connection: clientConnection });
    context.taskQueue = (prefix = 'test') => `${prefix}-${crypto.randomUUID()}`;
    context.startWorker = async ({ taskQueue, tools, modelUrl, ...rest }) => {
      const worker = await createAgentWorker({
        connection: context.connection,
        taskQueue,
        tools,
        model: { apiKey: 'test-key', baseUrl: modelUrl },
        workflowBundle: { code: inject('workflowBundleCode') },
        ...rest,
      });
      running.push({ worker, done: worker.run() });
      return worker;
    };
  });

  afterAll(async () => {
    for (const { worker, done } of running) {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    }
    await clientConnection?.close();
    await context.connection?.close();
  });

  return context;
}
