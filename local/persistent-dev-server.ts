import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { freePort } from './free-port.ts';
import { DEV_SERVER_DYNAMIC_CONFIG, searchAttributeArgs, startDevServer } from './temporal-dev-server.ts';

/**
 * The dev server of `npm start` and `npm run chat`, kept in `<dataDir>/temporal.db`: the same
 * conversations and schedules after a restart, and runs in flight carry on. A small file
 * next to it names the process that owns the server and its address, so a second program
 * can share it rather than open the same database twice.
 */

export interface DevServerRecord {
  /** The process that started the server and stops it. */
  ownerPid: number;
  /** `npm start` or `npm run chat`. */
  owner: string;
  address: string;
  uiUrl?: string;
}

export function devServerRecordPath(dataDir: string): string {
  return join(dataDir, 'temporal-dev-server.json');
}

/** The dev server another live process runs on this data directory, if any. */
export function liveDevServer(dataDir: string): DevServerRecord | undefined {
  let record: DevServerRecord;
  try {
    record = JSON.parse(readFileSync(devServerRecordPath(dataDir), 'utf8')) as DevServerRecord;
  } catch {
    return undefined;
  }
  return record.ownerPid !== process.pid && isAlive(record.ownerPid) ? record : undefined;
}

export interface PersistentDevServerOptions {
  dataDir: string;
  /** Who owns it, for the message a second program shows. */
  owner: string;
  executable?: string;
  ui?: boolean;
  /** Port of the frontend; a restart on the same port lets connected clients carry on. @default any free port */
  port?: number;
}

/** A running local Temporal: connections for the worker and the client, and how to stop it. */
export interface LocalTemporal {
  address: string;
  uiUrl?: string;
  /** The server's own process, when this program runs the CLI itself. */
  pid?: number;
  nativeConnection: NativeConnection;
  client: Client;
  stop(): Promise<void>;
}

/**
 * Starts the dev server on `<dataDir>/temporal.db`, after stopping one a killed owner left
 * behind. With a known `temporal` binary it runs it directly, its output in
 * `<dataDir>/logs/temporal.log`; without one, the SDK downloads it (and may fail offline).
 */
export async function startPersistentDevServer(options: PersistentDevServerOptions): Promise<LocalTemporal> {
  mkdirSync(join(options.dataDir, 'logs'), { recursive: true });
  const dbFilename = resolve(options.dataDir, 'temporal.db');
  await stopOrphans(dbFilename);
  const server = options.executable ? await runCli(options.executable, dbFilename, options) : await viaSdk(dbFilename, options);
  const record: DevServerRecord = {
    ownerPid: process.pid,
    owner: options.owner,
    address: server.address,
    ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}),
  };
  writeFileSync(devServerRecordPath(options.dataDir), JSON.stringify(record, null, 2));
  return {
    ...server,
    async stop() {
      rmSync(devServerRecordPath(options.dataDir), { force: true });
      await server.stop();
    },
  };
}

async function viaSdk(dbFilename: string, options: PersistentDevServerOptions): Promise<LocalTemporal> {
  const server = await startDevServer({ dbFilename, ...(options.ui !== undefined ? { ui: options.ui } : {}) });
  return {
    address: server.address,
    ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}),
    nativeConnection: server.env.nativeConnection,
    client: server.env.client,
    stop: () => server.stop(),
  };
}

/**
 * The database in write-ahead-log mode, synced at checkpoints rather than at every commit:
 * SQLite's default (a rollback journal, synced two or three times a commit) serialises every
 * write of the server behind the disk, and readers behind the writer. A killed server (the
 * faults harness's SIGKILL) loses nothing in WAL mode; only the machine losing power could
 * drop the last commits, which a local stack can afford.
 */
const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

/** How long a dev server may take to open its database and answer. */
const START_TIMEOUT_MS = 60_000;

async function runCli(executable: string, dbFilename: string, options: PersistentDevServerOptions): Promise<LocalTemporal> {
  const port = options.port ?? (await freePort());
  const uiPort = options.ui === false ? undefined : await freePort();
  const dynamicConfig = {
    ...DEV_SERVER_DYNAMIC_CONFIG,
    'frontend.enableUpdateWorkflowExecution': true,
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted': true,
  };
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    dbFilename,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    'default',
    '--log-level',
    'warn',
    ...SQLITE_PRAGMAS.flatMap((pragma) => ['--sqlite-pragma', pragma]),
    ...(uiPort ? ['--ui-port', String(uiPort)] : ['--headless']),
    // AgentName, ChannelKind, TriggerKind, Outcome: conversations start with them.
    ...searchAttributeArgs(),
    ...Object.entries(dynamicConfig).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
  ];
  const logFile = openSync(join(options.dataDir, 'logs', 'temporal.log'), 'a');
  const child = spawn(executable, args, { stdio: ['ignore', logFile, logFile] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`temporal exited with code ${child.exitCode}; see ${join(options.dataDir, 'logs', 'temporal.log')}`);
      try {
        const nativeConnection = await NativeConnection.connect({ address });
        const connection = await Connection.connect({ address, connectTimeout: 2000 });
        const client = new Client({ connection, namespace: 'default' });
        // The namespace is registered a moment after the port opens.
        await waitForNamespace(client, deadline);
        return {
          address,
          ...(uiPort ? { uiUrl: `http://127.0.0.1:${uiPort}` } : {}),
          ...(child.pid !== undefined ? { pid: child.pid } : {}),
          nativeConnection,
          client,
          async stop() {
            await connection.close().catch(() => undefined);
            await nativeConnection.close().catch(() => undefined);
            await stop();
          },
        };
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForNamespace(client: Client, deadline: number): Promise<void> {
  for (;;) {
    try {
      await client.workflowService.describeNamespace({ namespace: 'default' });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/**
 * A dev server whose owner was killed (SIGKILL, a closed terminal) keeps running and holds
 * the database. It is found by its own command line, which names this exact file, so nothing
 * else is touched.
 */
async function stopOrphans(dbFilename: string): Promise<void> {
  let listing: string;
  try {
    listing = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  } catch {
    return;
  }
  const pids = listing
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && / start-dev\b/.test(match[2]!) && match[2]!.includes(dbFilename))
    .map((match) => Number(match[1]));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5000;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
