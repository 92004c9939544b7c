import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.ts';
import { freePort } from './free-port.ts';

/** Where `.ci/run` builds the Temporal CLI (`go install …/cli/cmd/temporal@v1.5.1`). */
export const CACHED_TEMPORAL_CLI = join(homedir(), '.cache', 'durable-agents', 'temporal-cli-1.5.1', 'temporal');

/**
 * The Temporal CLI to run the dev server with: `TEMPORAL_CLI_PATH`, then `temporal` on
 * PATH, then the cache `.ci/run` fills. Undefined means "let the SDK download it".
 */
export function findTemporalCli(env: { TEMPORAL_CLI_PATH?: string | undefined; PATH?: string | undefined }): string | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH)) {
      throw new Error(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file.`);
    }
    return env.TEMPORAL_CLI_PATH;
  }
  for (const directory of (env.PATH ?? '').split(delimiter)) {
    if (directory && isExecutable(join(directory, 'temporal'))) return join(directory, 'temporal');
  }
  return isExecutable(CACHED_TEMPORAL_CLI) ? CACHED_TEMPORAL_CLI : undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The dev server reads its one history shard's transfer queue at most 20 times a second, so
 * every task a run schedules waits about 45 ms before a worker can see it (about 200 ms a
 * step, measured by `npm run bench -- overhead`). Raised, a step costs about a quarter of that.
 * Eager activity execution lets the server hand an activity scheduled on the workflow's own
 * queue back in its reply to the workflow task, skipping the transfer queue and matching.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, string | number | boolean>> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'system.enableActivityEagerExecution': true,
  // Worker Deployments (worker versioning): on by default in server 1.29, named so a server
  // whose defaults differ still runs the versioning test and `npm run deployment`.
  'system.enableDeploymentVersions': true,
  'frontend.workerVersioningWorkflowAPIs': true,
};

/** `--search-attribute Name=Type` arguments of `temporal server start-dev` for the attributes workflows set. */
export function searchAttributeArgs(): string[] {
  const cliType = { KEYWORD: 'Keyword', DATETIME: 'Datetime' } as const;
  return SEARCH_ATTRIBUTE_KEYS.flatMap((key) => ['--search-attribute', `${key.name}=${cliType[key.type]}`]);
}

export interface DevServerOptions {
  /** The `temporal` binary (`findTemporalCli(process.env)` at the entry). @default the SDK's download */
  executable?: string;
  /** Serve the Web UI too. @default false */
  ui?: boolean;
  /** Dynamic config values. @default DEV_SERVER_DYNAMIC_CONFIG */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** SQLite file that keeps workflows, schedules and namespaces across restarts. @default none: in memory */
  dbFilename?: string;
  /** SQLite pragmas of that file, e.g. `{ journal_mode: 'wal', synchronous: 'normal' }` (a bench's many small writes). @default SQLite's */
  sqlitePragmas?: Record<string, string>;
  /** Register this project's search attributes at start (a test of a namespace without them sets false). @default true */
  registerSearchAttributes?: boolean;
}

export interface DevServer {
  env: TestWorkflowEnvironment;
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

/** Starts a Temporal dev server as a child process, on free ports. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = options.executable;
  const uiPort = options.ui ? await freePort() : undefined;
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ...(cli ? { executable: { type: 'existing-path', path: cli } } : {}),
      namespace: 'default',
      ip: '127.0.0.1',
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      ui: options.ui ?? false,
      // AgentName, ChannelKind, TriggerKind, Outcome, ApprovalWaitingSince: registered before any workflow sets them.
      searchAttributes: options.registerSearchAttributes === false ? [] : [...SEARCH_ATTRIBUTE_KEYS],
      ...(uiPort ? { uiPort } : {}),
      extraArgs: [
        '--log-level',
        'error',
        ...Object.entries(options.sqlitePragmas ?? {}).flatMap(([pragma, value]) => ['--sqlite-pragma', `${pragma}=${value}`]),
        ...Object.entries(options.dynamicConfig ?? DEV_SERVER_DYNAMIC_CONFIG).flatMap(([key, value]) => [
          '--dynamic-config-value',
          `${key}=${JSON.stringify(value)}`,
        ]),
      ],
    },
  });
  const address = env.address;
  return {
    env,
    address,
    ...(uiPort ? { uiUrl: `http://127.0.0.1:${uiPort}` } : {}),
    stop: () => env.teardown(),
  };
}
