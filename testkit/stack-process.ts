import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where a test reaches the console: its origin and this start's token. */
export interface ConsoleAccess {
  url: string;
  token: string;
}

export interface StackProcess extends ConsoleAccess {
  /** The console's origin, from the stack's last start-up line. */
  url: string;
  /** This start's console token, from the same line. */
  token: string;
  /** The printed address, token included: what a person opens. */
  openUrl: string;
  child: ChildProcess;
  /** Everything the stack printed so far. */
  output(): string;
  /** SIGTERM and wait; the stack stops its parts. */
  stop(): Promise<void>;
  /** SIGKILL this process alone: whatever it started is left behind, as after a crash. */
  kill(): Promise<void>;
}

/** Where a stack's data goes, and anything else its environment should carry. */
export interface StackProcessOptions {
  dataDir: string;
  env?: Record<string, string>;
  /** @default 120 s: the machine may be busy */
  readyTimeoutMs?: number;
}

/**
 * `npm start` as a child process (`node local/stack.ts`, as the script runs it), on its own
 * data directory and a free console port, with no GOOGLE_API_KEY or TEMPORAL_ADDRESS.
 */
export async function startStackProcess(options: StackProcessOptions): Promise<StackProcess> {
  const env: Record<string, string> = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  delete env.GOOGLE_API_KEY;
  delete env.TEMPORAL_ADDRESS;
  // npm start keeps its own key file under its data directory, as on a developer's machine.
  delete env.PAYLOAD_KEYS;
  const child = spawn(process.execPath, ['local/stack.ts'], {
    cwd: ROOT,
    env: { ...env, DATA_DIR: options.dataDir, CONSOLE_PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const openUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the stack was not ready within ${options.readyTimeoutMs ?? 120_000} ms:\n${output}`)),
      options.readyTimeoutMs ?? 120_000,
    );
    const look = () => {
      const match = /Open the console: (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited with code ${code} before it was ready:\n${output}`));
    });
  });
  const printed = new URL(openUrl);
  return {
    url: printed.origin,
    token: printed.searchParams.get('token') ?? '',
    openUrl,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The stand-in's Slack messages, as the console's state endpoint shows them. */
export interface ConsoleSlackMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  user: string;
  botId?: string;
  edits: number;
  blocks?: { type: string; elements?: { action_id: string; value: string }[] }[];
}

/** Calls the console's API as its page does: the token in its header, writes as JSON. */
export function consoleFetch(access: ConsoleAccess, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'x-console-token': access.token };
  if (body === undefined) return fetch(`${access.url}${path}`, { headers });
  return fetch(`${access.url}${path}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export async function consoleState(
  access: ConsoleAccess,
): Promise<{ slack: ConsoleSlackMessage[]; mail: { direction: string; text: string; threadId: string }[] }> {
  const response = await consoleFetch(access, '/api/state');
  return (await response.json()) as { slack: ConsoleSlackMessage[]; mail: { direction: string; text: string; threadId: string }[] };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<Value>(check: () => Promise<Value | undefined>, timeoutMs: number, what: string): Promise<Value> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
