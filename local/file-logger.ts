import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DefaultLogger, type LogLevel } from '@temporalio/worker';

/**
 * The Temporal SDK's logger for the local programs: everything at `level` and above goes to
 * `file`, one JSON line each, and nothing to the terminal, where a chat is going on. A tool
 * that fails offline is reported to the model and the person by the run itself; the SDK's
 * 25-line warning with its task token belongs in the log.
 */
export function fileLogger(file: string, level: LogLevel = 'INFO'): DefaultLogger {
  mkdirSync(dirname(file), { recursive: true });
  const stream = createWriteStream(file, { flags: 'a' });
  return new DefaultLogger(level, (entry) => {
    const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    stream.write(`${JSON.stringify({ time, level: entry.level, message: entry.message, ...(entry.meta ?? {}) }, replaceErrors)}\n`);
  });
}

/** Writes JSON lines to `file`: the edge's and dispatcher's logs, off the terminal. */
export function fileJsonLog(file: string): (fields: Record<string, unknown>) => void {
  mkdirSync(dirname(file), { recursive: true });
  const stream = createWriteStream(file, { flags: 'a' });
  return (fields) => stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

function replaceErrors(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === 'bigint') return value.toString();
  return value;
}
