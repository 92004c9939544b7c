/**
 * The one duration grammar: durations as Temporal reads them, in milliseconds. Pure module:
 * workflows import it, and so do the trigger validation and the settings helper, so a value
 * one of them accepts is one Temporal accepts. The SDK's own converter lives under an
 * internal path (`@temporalio/common/lib/time`), which no module here imports; this one reads
 * the same formats (the `ms` package's): '15 minutes', '1.5h', '2 days', '1 week', '250'.
 */

import type { Duration } from '@temporalio/common';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_557_600_000,
};

/** The units `ms` (and so Temporal) accepts, each mapped to its one-letter form. */
const UNITS: [RegExp, string][] = [
  [/^(milliseconds?|msecs?|ms)$/, 'ms'],
  [/^(seconds?|secs?|s)$/, 's'],
  [/^(minutes?|mins?|m)$/, 'm'],
  [/^(hours?|hrs?|h)$/, 'h'],
  [/^(days?|d)$/, 'd'],
  [/^(weeks?|w)$/, 'w'],
  [/^(years?|yrs?|y)$/, 'y'],
];

const DURATION = /^(-?(?:\d+)?\.?\d+) *([a-z]+)?$/i;

/** Like `ms`, the SDK reads no string longer than this. */
const MAX_DURATION_LENGTH = 100;

/**
 * `'5 minutes'` → 300000, a finite number is already milliseconds, anything else
 * (including a string over 100 characters or with spaces around it) is undefined.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.length > MAX_DURATION_LENGTH) return undefined;
  const match = DURATION.exec(value);
  if (!match) return undefined;
  const unit = match[2] === undefined ? 'ms' : UNITS.find(([pattern]) => pattern.test(match[2]!.toLowerCase()))?.[1];
  return unit === undefined ? undefined : Number.parseFloat(match[1]!) * UNIT_MS[unit]!;
}

/** `'5 minutes'` → 300000; a number is already milliseconds. Throws a TypeError on anything else, as the SDK does. */
export function durationMs(value: Duration): number {
  if (typeof value === 'number') return value;
  const milliseconds = parseDuration(value);
  if (milliseconds === undefined) throw new TypeError(`Invalid duration string: '${value}'`);
  return milliseconds;
}
