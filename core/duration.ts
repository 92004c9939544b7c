/**
 * Durations as Temporal reads them, in milliseconds. Pure module: workflows import it.
 * The SDK's own converter lives under an internal path (`@temporalio/common/lib/time`),
 * which no module here imports; this one reads the same formats.
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

/** `'5 minutes'` → 300000; a number is already milliseconds. Throws a TypeError on anything else, as the SDK does. */
export function durationMs(value: Duration): number {
  if (typeof value === 'number') return value;
  const match = value.length <= 100 ? DURATION.exec(value) : null;
  const unit = match?.[2] === undefined ? 'ms' : UNITS.find(([pattern]) => pattern.test(match[2]!.toLowerCase()))?.[1];
  if (!match || unit === undefined) throw new TypeError(`Invalid duration string: '${value}'`);
  return Number.parseFloat(match[1]!) * UNIT_MS[unit]!;
}
