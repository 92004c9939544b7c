import { join } from 'node:path';
import { Runtime as TemporalRuntime } from '@temporalio/worker';
import { settingsOrExit } from '../config/load-settings.ts';
import { compileAgent } from '../authoring/define-agent.ts';
import type { Content } from '../core/spec.ts';
import { followAgentRun, startAgentRun } from '../temporal-client/run-agent.ts';
import { PayloadKeyError } from '../temporal-client/payload-encryption.ts';
import { TemporalConnectionError } from '../temporal-client/temporal-connection.ts';
import { localPayloadKeys } from '../local/payload-keys.ts';
import { startRuntime, type Runtime } from '../local/runtime.ts';
import { fileLogger } from '../local/file-logger.ts';
import { loadStackSettings } from '../config/local-settings.ts';
import { StartupError } from '../local/startup-error.ts';
import type { AgentRunResult } from '../workflows/agent-run.ts';
import { formatEvent } from './format.ts';

/** A terminal program's session: its settings, read once, and the runtime they describe. */
export interface Session extends Runtime {
  /** The agent the program talks to (`AGENT`, or the registry's default). */
  agent: string;
}

export interface SessionOptions {
  /** Names the SDK's log file, `<DATA_DIR>/logs/<program>.log`. */
  program: string;
  /** Keep conversations in DATA_DIR's dev server (or join `npm start`'s). @default false: a dev server in memory */
  persist?: boolean;
}

/**
 * Reads the settings from the entry's environment and starts the runtime, with start-up
 * facts on stderr. A bad setting, or a Temporal that refuses the connection, ends the program
 * with one line naming the variable.
 */
export async function openSession(env: Readonly<Record<string, string | undefined>>, options: SessionOptions): Promise<Session> {
  const settings = settingsOrExit(() => loadStackSettings(env));
  const dataDir = settings.stack.DATA_DIR;
  // The terminal shows the run's steps; the SDK's warnings (a retried tool: 25 lines and a task token) go to a file.
  TemporalRuntime.install({ logger: fileLogger(join(dataDir, 'logs', `${options.program}.log`)) });
  let runtime: Runtime;
  try {
    const payloadKeys = localPayloadKeys(env, dataDir);
    runtime = await startRuntime(settings, {
      env,
      payloadKeys,
      announce: (line) => console.error(line),
      ...(options.persist ? { dataDir, owner: `npm run ${options.program}` } : {}),
    });
  } catch (error) {
    if (!(error instanceof StartupError) && !(error instanceof TemporalConnectionError) && !(error instanceof PayloadKeyError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  return { ...runtime, agent: runtime.registry.get(settings.terminal.AGENT ?? runtime.registry.defaultAgent).name };
}

/** Runs one durable agent run and prints its steps as they happen. */
export async function ask(session: Session, prompt: string, history: Content[] = []): Promise<AgentRunResult> {
  const agent = session.registry.get(session.agent);
  const handle = await startAgentRun(session.client, { spec: compileAgent(agent), prompt, history, taskQueue: session.taskQueue });
  console.error(`  · run ${handle.workflowId}`);
  return followAgentRun(handle, {
    onEvent: (event) => {
      const line = formatEvent(event);
      if (line) console.error(line);
    },
  });
}
