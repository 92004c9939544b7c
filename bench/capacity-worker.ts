/**
 * The worker process of the capacity part: one agent worker (workflows, tools, transcript
 * and model activities) on a prebuilt bundle, so that its resident memory is measured alone.
 * Started by capacity.ts with its settings as JSON in argv[2]; reports usage when told to stop.
 */
import { NativeConnection } from '@temporalio/worker';
import { createCachedStore } from '../store/cached-store.ts';
import { createLocalDirectoryStore } from '../store/local-directory-store.ts';
import { createAgentWorker, type AgentWorkerOptions } from '../worker/create-worker.ts';
import { API_KEY, installQuietRuntime } from './harness.ts';
import { createLoopTool } from './scripted-loop.ts';

export interface CapacityWorkerSettings {
  address: string;
  taskQueue: string;
  modelUrl: string;
  storeDirectory: string;
  bundlePath: string;
  toolResultBytes: number;
  tuning: NonNullable<AgentWorkerOptions['tuning']>;
  modelTuning: NonNullable<AgentWorkerOptions['modelTuning']>;
  modelOnMainQueue: boolean;
}

export type CapacityWorkerMessage = { kind: 'ready' } | { kind: 'stopped'; maxRssBytes: number; cpuSeconds: number; heapUsedBytes: number };

const settings = JSON.parse(process.argv[2] ?? '{}') as CapacityWorkerSettings;
const send = (message: CapacityWorkerMessage, then?: () => void) => process.send?.(message, undefined, undefined, then);

installQuietRuntime();
const connection = await NativeConnection.connect({ address: settings.address });
const worker = await createAgentWorker({
  connection,
  taskQueue: settings.taskQueue,
  ...(settings.modelOnMainQueue ? { modelTaskQueue: settings.taskQueue } : {}),
  tools: [createLoopTool(settings.toolResultBytes)],
  model: {
    apiKey: API_KEY,
    baseUrl: settings.modelUrl,
    store: createCachedStore(createLocalDirectoryStore({ directory: settings.storeDirectory })),
  },
  workflowBundle: { codePath: settings.bundlePath },
  tuning: settings.tuning,
  modelTuning: settings.modelTuning,
});
const running = worker.run();
send({ kind: 'ready' });

process.on('message', (message: { kind: string }) => {
  if (message.kind !== 'stop') return;
  worker.shutdown();
  void running.then(async () => {
    await connection.close();
    const cpu = process.cpuUsage();
    send(
      {
        kind: 'stopped',
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        heapUsedBytes: process.memoryUsage().heapUsed,
      },
      () => process.exit(0),
    );
  });
});
