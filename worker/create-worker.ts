import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { ToolDefinition } from '../core/define-tool.ts';
import { createModelActivities, type ModelActivityDeps } from './activities/model.ts';
import { createToolActivities } from './activities/tools.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface AgentWorkerOptions {
  connection: NativeConnection;
  /** @default 'default' */
  namespace?: string;
  taskQueue: string;
  /** Every tool any agent may call; each becomes the activity `tool:<name>`. */
  tools: Iterable<ToolDefinition>;
  model: ModelActivityDeps;
  /** A prebuilt bundle (tests build one per run); by default the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra worker options (concurrency, identity, …). */
  tuning?: Partial<Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows' | 'identity' | 'shutdownGraceTime'>>;
}

/** Creates a worker that runs agent workflows, the model activity and every tool activity. */
export async function createAgentWorker(options: AgentWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: {
      ...createModelActivities(options.model),
      ...createToolActivities(options.tools),
    },
    // Cancellation reaches a running activity with its next heartbeat sent to the server.
    maxHeartbeatThrottleInterval: '5 seconds',
    ...options.tuning,
  });
}
