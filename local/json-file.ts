import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The JSON a local program kept in `file`, or `fallback` when there is none yet. */
export function readJsonFile<Value>(file: string, fallback: Value): Value {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw error;
  }
}

export interface WriteJsonFileOptions {
  /** The file's permission bits, e.g. 0o600 for a file of secrets. @default 0o666 less the umask */
  mode?: number;
}

/** Writes `value` whole or not at all (a temporary file renamed over the old one), so a kill never leaves half a file. */
export function writeJsonFile(file: string, value: unknown, options: WriteJsonFileOptions = {}): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  // The mode is set at creation, so a secret is never readable by others, not even for a moment.
  writeFileSync(temporary, JSON.stringify(value), options.mode === undefined ? {} : { mode: options.mode });
  renameSync(temporary, file);
}

/**
 * Creates `directory` readable by its owner alone (0700), or tightens it when it exists: the
 * local programs keep secrets, keys, transcripts and the dev server's database there, and
 * other users of the machine must not read them.
 */
export function ensurePrivateDirectory(directory: string): void {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  if ((statSync(directory).mode & 0o077) !== 0) chmodSync(directory, 0o700);
}

/** Tightens an existing file to its owner alone (0600); a file written before this check may be world-readable. */
export function ensurePrivateFile(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
