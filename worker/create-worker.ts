import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type State, type WorkerOptions } from '@temporalio/worker';
import type { ToolDefinition } from '../core/define-tool.ts';
import { createModelActivities, type ModelActivityDeps } from './activities/model.ts';
import { createToolActivities } from './activities/tools.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

type Tuning = Partial<
  Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows' | 'identity' | 'shutdownGraceTime'>
>;

export interface AgentWorkerOptions {
  connection: NativeConnection;
  /** @default 'default' */
  namespace?: string;
  /** Task queue of workflows and tool activities. */
  taskQueue: string;
  /** Task queue of model calls. @default `${taskQueue}-model` */
  modelTaskQueue?: string;
  /**
   * Model calls started per second across every worker of the model task queue (the
   * server enforces it), so a fleet stays under the provider's rate limit. @default unlimited
   */
  modelCallsPerSecond?: number;
  /** Every tool any agent may call; each becomes the activity `tool:<name>`. */
  tools: Iterable<ToolDefinition>;
  model: ModelActivityDeps;
  /** A prebuilt bundle (tests build one per run); by default the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra workflow modules (benchmarks add their baseline loop); ignored with `workflowBundle`. */
  workflowsPath?: string;
  tuning?: Tuning;
  /** Tuning of the model worker. @default tuning */
  modelTuning?: Tuning;
}

/** The two Temporal workers of a process, run and stopped together. */
export interface AgentWorker {
  run(): Promise<void>;
  shutdown(): void;
  getState(): State;
  workers: Worker[];
}

/**
 * Creates the workers of one process: one runs agent workflows, the transcript activity and
 * every tool activity; the other runs model calls on their own task queue, where one rate
 * limit holds for every worker.
 */
export async function createAgentWorker(options: AgentWorkerOptions): Promise<AgentWorker> {
  const namespace = options.namespace ?? 'default';
  const { callModel, appendToTranscript } = createModelActivities(options.model);
  const main = await Worker.create({
    connection: options.connection,
    namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: options.workflowsPath ?? WORKFLOWS_PATH }),
    activities: { appendToTranscript, ...createToolActivities(options.tools, options.model.store) },
    // Cancellation reaches a running activity with its next heartbeat sent to the server.
    maxHeartbeatThrottleInterval: '5 seconds',
    ...options.tuning,
  });
  const model = await Worker.create({
    connection: options.connection,
    namespace,
    taskQueue: options.modelTaskQueue ?? `${options.taskQueue}-model`,
    activities: { callModel },
    maxHeartbeatThrottleInterval: '5 seconds',
    ...(options.modelCallsPerSecond ? { maxTaskQueueActivitiesPerSecond: options.modelCallsPerSecond } : {}),
    ...(options.modelTuning ?? options.tuning),
  });
  const workers = [main, model];
  return {
    workers,
    run: async () => {
      await Promise.all(workers.map((worker) => worker.run()));
    },
    shutdown: () => {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
    getState: () => main.getState(),
  };
}
