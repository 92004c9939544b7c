import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { CACHED_TEMPORAL_CLI } from './temporal-dev-server.ts';
import { StartupError } from './startup-error.ts';

/** The one version `go install` accepts (later ones carry a replace directive it refuses). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/** The command that builds the CLI where the dev server looks for it. */
export const BUILD_TEMPORAL_CLI_COMMAND = `GOBIN=${dirname(CACHED_TEMPORAL_CLI)} go install ${TEMPORAL_CLI_MODULE}`;

export interface ProvideTemporalCliOptions {
  /** What `findTemporalCli` found (TEMPORAL_CLI_PATH, PATH, the cache). */
  found: string | undefined;
  /** The entry's PATH, to look for `go`. */
  path: string | undefined;
  announce(line: string): void;
}

/**
 * The Temporal CLI for the dev server: the one found, else one built once with Go when Go is
 * on the machine (a minute or two, announced). Undefined leaves the SDK to download it; if
 * that fails too, `explainDownloadFailure` says what to run.
 */
export async function provideTemporalCli(options: ProvideTemporalCliOptions): Promise<string | undefined> {
  if (options.found) return options.found;
  const go = which('go', options.path);
  if (!go) return undefined;
  options.announce(
    `Temporal CLI: not found; building ${TEMPORAL_CLI_MODULE} with Go into ${dirname(CACHED_TEMPORAL_CLI)} (once; a minute or two)…`,
  );
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(go, ['install', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: dirname(CACHED_TEMPORAL_CLI), GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.on('error', () => resolve(-1));
    child.on('close', resolve);
  });
  if (code !== 0) {
    const last = output.join('').trim().split('\n').at(-1) ?? 'no output';
    throw new StartupError(
      `Could not build the Temporal CLI with Go (${last.slice(0, 200)}). Run \`${BUILD_TEMPORAL_CLI_COMMAND}\` yourself, or set TEMPORAL_CLI_PATH to a temporal binary, or TEMPORAL_ADDRESS to a running server.`,
    );
  }
  return CACHED_TEMPORAL_CLI;
}

/** The SDK could not download the CLI (no internet, a proxy): what to do instead. */
export function explainDownloadFailure(error: unknown): StartupError {
  const message = (error as Error).message ?? String(error);
  const reason = /download/i.test(message) ? 'the download failed: no internet here?' : message.split('\n')[0]!.slice(0, 160);
  return new StartupError(
    `No Temporal CLI on this machine, and the SDK could not fetch one (${reason}). Build it once with Go: \`${BUILD_TEMPORAL_CLI_COMMAND}\`; or set TEMPORAL_CLI_PATH to a temporal binary, or TEMPORAL_ADDRESS to a running server.`,
  );
}

function which(command: string, path: string | undefined): string | undefined {
  for (const directory of (path ?? '').split(delimiter)) {
    if (!directory) continue;
    try {
      accessSync(join(directory, command), constants.X_OK);
      return join(directory, command);
    } catch {
      // not here
    }
  }
  return undefined;
}
