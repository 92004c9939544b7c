/**
 * Time-zone facts from the runtime's Intl data (ICU's copy of the IANA database): whether a
 * zone exists, its UTC offset at an instant, and its offset changes (daylight saving) over
 * the next years. Pure apart from that data; formatters are cached per zone.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Offsets are sampled this often, then each change is narrowed to the minute. */
const SAMPLE_STEP = 7 * DAY;

const formatters = new Map<string, Intl.DateTimeFormat>();
const transitionCache = new Map<string, ZoneTransition[]>();

export interface ZoneTransition {
  /** The first instant (epoch milliseconds, whole minute) with the new offset. */
  at: number;
  /** UTC offsets in minutes before and after, e.g. -300 then -240 for New York in March. */
  offsetBefore: number;
  offsetAfter: number;
}

/**
 * Why `zone` is not usable as a schedule's time zone, or undefined when it is. Offsets such
 * as "+05:00" and differently-cased names pass Intl but not the server's zone lookup.
 */
export function timeZoneProblem(zone: string): string | undefined {
  if (typeof zone !== 'string' || zone === '') return 'a time zone must be an IANA name such as "Europe/Paris" or "UTC"';
  if (!zoneProblems.has(zone)) zoneProblems.set(zone, findZoneProblem(zone));
  return zoneProblems.get(zone);
}

const zoneProblems = new Map<string, string | undefined>();

function findZoneProblem(zone: string): string | undefined {
  if (/^[+-]/.test(zone)) return `"${zone}" is an offset, not a zone; use an IANA name such as "Etc/GMT-5" or "Asia/Karachi"`;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return `"${zone}" is not an IANA time zone (e.g. "Europe/Paris", "America/New_York", "UTC")`;
  }
  if (resolved !== zone && resolved.toLowerCase() === zone.toLowerCase()) return `write the time zone as "${resolved}"`;
  return undefined;
}

/** The zone's UTC offset in minutes at an instant (east positive). */
export function utcOffsetMinutes(zone: string, at: number): number {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    formatters.set(zone, formatter);
  }
  const name = formatter.formatToParts(at).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  if (!match) return 0; // "GMT": UTC itself
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

/**
 * Offset changes of `zone` between `from` and `from + years`. Changes less than a week
 * apart that cancel out are not seen; no zone in the current database has one.
 */
export function zoneTransitions(zone: string, from: number, years: number): ZoneTransition[] {
  const start = Math.floor(from / DAY) * DAY;
  const key = `${zone}|${start}|${years}`;
  const cached = transitionCache.get(key);
  if (cached) return cached;
  const end = start + years * 365.25 * DAY;
  const transitions: ZoneTransition[] = [];
  let previousAt = start;
  let previousOffset = utcOffsetMinutes(zone, start);
  for (let at = start + SAMPLE_STEP; at <= end; at += SAMPLE_STEP) {
    const offset = utcOffsetMinutes(zone, at);
    if (offset !== previousOffset) transitions.push(narrow(zone, previousAt, previousOffset, at, offset));
    previousAt = at;
    previousOffset = offset;
  }
  transitionCache.set(key, transitions);
  return transitions;
}

/** Bisects (low, high] down to the first minute with the new offset. */
function narrow(zone: string, low: number, offsetBefore: number, high: number, offsetAfter: number): ZoneTransition {
  let lowMinute = Math.floor(low / MINUTE);
  let highMinute = Math.floor(high / MINUTE);
  while (highMinute - lowMinute > 1) {
    const middle = Math.floor((lowMinute + highMinute) / 2);
    if (utcOffsetMinutes(zone, middle * MINUTE) === offsetBefore) lowMinute = middle;
    else highMinute = middle;
  }
  return { at: highMinute * MINUTE, offsetBefore, offsetAfter };
}

export interface WallClockMinute {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  /** 0 = Sunday */
  weekday: number;
  hour: number;
  minute: number;
}

/**
 * The local wall-clock minutes a transition skips (clocks go forward) or shows twice
 * (clocks go back), capped at one day.
 */
export function affectedWallClock(transition: ZoneTransition): { kind: 'skipped' | 'repeated'; minutes: WallClockMinute[] } {
  let affected = affectedCache.get(transition);
  if (!affected) {
    affected = computeAffected(transition);
    affectedCache.set(transition, affected);
  }
  return affected;
}

const affectedCache = new WeakMap<ZoneTransition, { kind: 'skipped' | 'repeated'; minutes: WallClockMinute[] }>();

function computeAffected(transition: ZoneTransition): { kind: 'skipped' | 'repeated'; minutes: WallClockMinute[] } {
  const { at, offsetBefore, offsetAfter } = transition;
  const kind = offsetAfter > offsetBefore ? 'skipped' : 'repeated';
  // Wall-clock times as if UTC: the skipped ones start at the old offset, the repeated at the new.
  const first = at + Math.min(offsetBefore, offsetAfter) * MINUTE;
  const count = Math.min(Math.abs(offsetAfter - offsetBefore), 24 * 60);
  const minutes: WallClockMinute[] = [];
  for (let index = 0; index < count; index += 1) {
    const wall = new Date(first + index * MINUTE);
    minutes.push({
      year: wall.getUTCFullYear(),
      month: wall.getUTCMonth() + 1,
      day: wall.getUTCDate(),
      weekday: wall.getUTCDay(),
      hour: wall.getUTCHours(),
      minute: wall.getUTCMinutes(),
    });
  }
  return { kind, minutes };
}
