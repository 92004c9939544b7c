import type { Client, WorkflowHandle } from '@temporalio/client';
import type { AgentSpec, Content } from '../core/spec.ts';
import { AGENT_RUN_TASK_TIMEOUT, AGENT_RUN_WORKFLOW, PROGRESS_QUERY, type RunEvent } from '../core/run-events.ts';
import type { AgentRunResult, agentRun } from '../workflows/agent-run.ts';

export interface StartRunOptions {
  spec: AgentSpec;
  prompt: string;
  history?: Content[];
  taskQueue: string;
  /** @default `run:<agent>:<random uuid>` */
  workflowId?: string;
}

export function startAgentRun(client: Client, options: StartRunOptions): Promise<WorkflowHandle<typeof agentRun>> {
  return client.workflow.start<typeof agentRun>(AGENT_RUN_WORKFLOW, {
    taskQueue: options.taskQueue,
    workflowId: options.workflowId ?? `run:${options.spec.name}:${crypto.randomUUID()}`,
    // A stop reaches a run in a read-only step at its task's heartbeat (80% of this).
    workflowTaskTimeout: AGENT_RUN_TASK_TIMEOUT,
    args: [{ spec: options.spec, prompt: options.prompt, ...(options.history ? { history: options.history } : {}) }],
  });
}

export interface FollowOptions {
  onEvent(event: RunEvent): void;
  /** How often to ask the run for progress. @default 150 */
  pollMs?: number;
}

/**
 * Waits for a run's result while relaying its progress events, each once, in order.
 * Progress comes from a query, so a run that moves to another worker keeps reporting.
 */
export async function followAgentRun(handle: WorkflowHandle<typeof agentRun>, options: FollowOptions): Promise<AgentRunResult> {
  let seen = 0;
  let done = false;
  const drain = async () => {
    try {
      const events = await handle.query<RunEvent[], [number]>(PROGRESS_QUERY, seen);
      for (const event of events) options.onEvent(event);
      seen += events.length;
    } catch {
      // A query can fail while no worker holds the run (a crash, a deploy); the next poll catches up.
    }
  };
  const poller = (async () => {
    while (!done) {
      await drain();
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 150));
    }
  })();
  try {
    return await handle.result();
  } finally {
    done = true;
    await poller;
    await drain();
  }
}
