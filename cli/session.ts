import { DefaultLogger, Runtime as TemporalRuntime } from '@temporalio/worker';
import { loadSettings } from '../core/config.ts';
import { compileAgent } from '../core/define-agent.ts';
import type { Content } from '../core/spec.ts';
import { followAgentRun, startAgentRun } from '../client/run-agent.ts';
import { startRuntime, type Runtime } from '../local/runtime.ts';
import type { AgentRunResult } from '../workflows/agent-run.ts';
import { formatEvent } from './format.ts';

/** Starts the runtime for a terminal program, with start-up facts on stderr. */
export async function openSession(): Promise<Runtime> {
  const settings = loadSettings();
  // The terminal shows the run's steps; the SDK's own chatter is only for warnings.
  TemporalRuntime.install({ logger: new DefaultLogger('WARN') });
  return startRuntime(settings, { worker: settings.EMBEDDED_WORKER, announce: (line) => console.error(line) });
}

/** Runs one durable agent run and prints its steps as they happen. */
export async function ask(runtime: Runtime, prompt: string, history: Content[] = []): Promise<AgentRunResult> {
  const settings = loadSettings();
  const agent = runtime.registry.get(settings.AGENT ?? runtime.registry.defaultAgent);
  const handle = await startAgentRun(runtime.client, { spec: compileAgent(agent), prompt, history, taskQueue: runtime.taskQueue });
  console.error(`  · run ${handle.workflowId}`);
  return followAgentRun(handle, {
    onEvent: (event) => {
      const line = formatEvent(event);
      if (line) console.error(line);
    },
  });
}
