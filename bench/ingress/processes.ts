import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SERVE_BUNDLE = fileURLToPath(new URL('./serve-bundle.ts', import.meta.url));
/** Children run from the repository root, so bare specifiers resolve from its node_modules. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A file, a package name (`@aws-sdk/client-sqs`), or nothing: an empty module. */
export type LoadTarget = { file: string } | { package: string } | undefined;

/** The environment of a child: this one's, without a compile cache (a Lambda cold start has none). */
export function childEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { NODE_COMPILE_CACHE: _cache, NODE_OPTIONS: _options, ...inherited } = process.env;
  return { ...inherited, ...extra };
}

export interface LoadSample {
  /** `await import(bundle)` alone. */
  importMs: number;
  /** From the process's time origin (its start) to the end of the import. */
  sinceStartMs: number;
}

/**
 * Imports a module in a fresh `node` process and reports how long that took: no module is
 * shared with another sample, so every figure is a cold load. An empty module measures Node's
 * own start, the floor under every figure.
 */
export async function coldLoad(target: LoadTarget, env: NodeJS.ProcessEnv): Promise<LoadSample> {
  const specifier = !target ? 'data:text/javascript,export{}' : 'file' in target ? pathToFileURL(target.file).href : target.package;
  const probe = `const s=performance.now();await import(${JSON.stringify(specifier)});const e=performance.now();process.stdout.write('\\n@load '+JSON.stringify({importMs:e-s,sinceStartMs:e})+'\\n');process.exit(0)`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const [code] = (await once(child, 'exit')) as [number | null];
  const line = /^@load (.*)$/m.exec(stdout)?.[1];
  if (code !== 0 || !line) throw new Error(`loading ${specifier} failed (exit ${code}): ${stderr || stdout}`);
  return JSON.parse(line) as LoadSample;
}

export interface ServedBundle {
  url: string;
  /** `await import(bundle)` in the serving process. */
  loadMs: number;
  /** From spawning the process to its handler taking requests. */
  readyMs: number;
  stop(): Promise<void>;
}

/** A fresh process serving a bundle's handler behind a Function URL stand-in (serve-bundle.ts). */
export async function serveBundle(bundle: string, env: NodeJS.ProcessEnv): Promise<ServedBundle> {
  const spawned = performance.now();
  const child: ChildProcess = spawn(process.execPath, [SERVE_BUNDLE, bundle], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const ready = await Promise.race([
    once(child, 'message').then(([message]) => message as { port: number; loadMs: number }),
    once(child, 'exit').then(([code]) => {
      throw new Error(`serving ${bundle} failed (exit ${code}): ${stderr}`);
    }),
  ]);
  const readyMs = performance.now() - spawned;
  return {
    url: `http://127.0.0.1:${ready.port}`,
    loadMs: ready.loadMs,
    readyMs,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
