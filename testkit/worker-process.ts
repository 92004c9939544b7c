import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_PAYLOAD_KEYS_JSON } from './payload-keys.ts';

const WORKER_MAIN = fileURLToPath(new URL('../worker/main.ts', import.meta.url));

/**
 * Runs `npm run worker`'s entry (the container's) as its own process, with `env` over this
 * process's environment, and resolves once it polls; a worker that exits first rejects with
 * what it printed. Crash tests and `npm run faults` kill it with SIGKILL. `cwd`: where files
 * the agents write with relative paths land (the expenses file). @default this process's
 */
export function startWorkerProcess(env: Record<string, string>, options: { cwd?: string } = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: { ...process.env, PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  return onceReady(child, 'Worker polling', 'worker');
}

/**
 * Resolves with `child` once it has printed `ready` (on stdout or stderr); a child that exits
 * first rejects, naming `name` and quoting all it printed.
 */
export function onceReady(child: ChildProcess, ready: string, name: string): Promise<ChildProcess> {
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited early (${code}):\n${output}`)));
  });
}

/**
 * Runs a program to its end (killed after `timeoutMs`) and gives back its exit code and all it
 * printed: for entries that must refuse to start, with one line.
 */
export async function runToExit(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, args, {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  return { code, output };
}
