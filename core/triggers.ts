import type { Duration } from './spec.ts';
import { parseCron, type CronSchedule } from './cron.ts';
import { parseDuration } from './duration.ts';
import { affectedWallClock, timeZoneProblem, zoneTransitions } from './time-zones.ts';

/** Where an ambient run's result goes. */
export type TriggerDelivery =
  | { kind: 'slack'; channel: string; team?: string } // Slack channel id, e.g. C0123
  | { kind: 'email'; to: string[] }; // plain addresses

export interface TriggerOptions {
  /** Unique within the agent: /^[a-z][a-z0-9-]{0,39}$/ */
  id: string;
  /** Five fields, e.g. '0 8 * * 1-5' (see core/cron.ts); exactly one of `cron` / `every`. */
  cron?: string;
  /** An interval such as '15 minutes', at least one minute; exactly one of `cron` / `every`. */
  every?: Duration;
  /** IANA zone the cron is read in (an `every` interval counts absolute time). @default 'UTC' */
  timezone?: string;
  /** What the agent is asked at each run. */
  prompt: string;
  deliver: TriggerDelivery;
  /** Who may approve tool calls in its runs (nobody asked for the run). @default [] */
  approvers?: string[];
}

/** A validated trigger: pure JSON, defaults filled in. */
export interface TriggerSpec extends TriggerOptions {
  timezone: string;
  approvers: string[];
}

export const TRIGGER_ID_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
export const DEFAULT_TRIGGER_TIMEZONE = 'UTC';
/** Shorter intervals would mostly measure the scheduler; nobody reads a digest every 10 seconds. */
export const MINIMUM_INTERVAL_MS = 60_000;
/** How far ahead a cron is checked against daylight-saving changes of its zone. */
export const DST_CHECK_YEARS = 5;

export interface TriggerValidationOptions {
  /** Start of the daylight-saving check (epoch milliseconds). @default Date.now() */
  now?: number;
  /** @default DST_CHECK_YEARS */
  years?: number;
}

/**
 * Validates an agent's triggers; each problem is a TypeError naming the agent and the
 * trigger. Pure apart from the clock (`options.now`) and the runtime's time-zone data.
 */
export function validateTriggers(
  agent: string,
  triggers: readonly TriggerOptions[],
  options: TriggerValidationOptions = {},
): TriggerSpec[] {
  if (!Array.isArray(triggers)) throw new TypeError(`Agent "${agent}": triggers must be an array.`);
  const seen = new Set<string>();
  return triggers.map((trigger) => {
    const spec = validateTrigger(agent, trigger, options);
    if (seen.has(spec.id)) throw new TypeError(`Agent "${agent}" lists trigger "${spec.id}" twice.`);
    seen.add(spec.id);
    return spec;
  });
}

export function validateTrigger(agent: string, trigger: TriggerOptions, options: TriggerValidationOptions = {}): TriggerSpec {
  const id = typeof trigger?.id === 'string' ? trigger.id : String(trigger?.id);
  const fail = (why: string): never => {
    throw new TypeError(`Agent "${agent}", trigger "${id}": ${why}.`);
  };
  if (!TRIGGER_ID_PATTERN.test(id)) fail(`the id must match ${TRIGGER_ID_PATTERN} (lowercase letters, digits, dashes; at most 40)`);
  const hasCron = trigger.cron !== undefined;
  const hasEvery = trigger.every !== undefined;
  if (hasCron === hasEvery) fail('set exactly one of `cron` (e.g. "0 8 * * 1-5") and `every` (e.g. "15 minutes")');
  const timezone = trigger.timezone ?? DEFAULT_TRIGGER_TIMEZONE;
  const zoneProblem = timeZoneProblem(timezone);
  if (zoneProblem) fail(zoneProblem);
  if (hasCron) {
    let cron: CronSchedule;
    try {
      cron = parseCron(trigger.cron!);
    } catch (error) {
      return fail((error as Error).message.replace(/\.$/, ''));
    }
    const problem = daylightSavingProblem(cron, timezone, options.now ?? Date.now(), options.years ?? DST_CHECK_YEARS);
    if (problem) fail(problem);
  } else {
    const milliseconds = parseDuration(trigger.every!);
    if (milliseconds === undefined) fail(`every "${String(trigger.every)}" is not a duration such as "15 minutes", "2 hours" or "1 day"`);
    if (milliseconds! < MINIMUM_INTERVAL_MS)
      fail(`every "${String(trigger.every)}" is under one minute; the shortest interval is "1 minute"`);
  }
  if (typeof trigger.prompt !== 'string' || trigger.prompt.trim() === '') fail('`prompt` must be a non-empty string');
  const deliver = validateDelivery(trigger.deliver, fail);
  const approvers = trigger.approvers ?? [];
  if (!Array.isArray(approvers) || approvers.some((approver) => typeof approver !== 'string' || approver.trim() === '')) {
    fail('`approvers` must be a list of user ids or email addresses');
  }
  return {
    id,
    ...(hasCron ? { cron: trigger.cron!.trim() } : { every: trigger.every! }),
    timezone,
    prompt: trigger.prompt,
    deliver,
    approvers: [...approvers],
  };
}

function validateDelivery(deliver: TriggerDelivery, fail: (why: string) => never): TriggerDelivery {
  if (deliver?.kind === 'slack') {
    if (typeof deliver.channel !== 'string' || !/^[A-Z0-9]{2,}$/.test(deliver.channel)) {
      fail(`deliver.channel "${String(deliver.channel)}" must be a Slack channel id such as "C0123ABCD" (not "#name")`);
    }
    if (deliver.team !== undefined && (typeof deliver.team !== 'string' || deliver.team === ''))
      fail('deliver.team must be a Slack team id');
    return { kind: 'slack', channel: deliver.channel, ...(deliver.team === undefined ? {} : { team: deliver.team }) };
  }
  if (deliver?.kind === 'email') {
    if (!Array.isArray(deliver.to) || deliver.to.length === 0) fail('deliver.to must list at least one email address');
    for (const address of deliver.to) {
      if (typeof address !== 'string' || !/^[^\s@<>",]+@[^\s@<>",]+\.[^\s@<>",]+$/.test(address))
        fail(`deliver.to "${String(address)}" is not a plain email address`);
    }
    return { kind: 'email', to: [...deliver.to] };
  }
  return fail('deliver must be { kind: "slack", channel } or { kind: "email", to: [...] }');
}

/**
 * Temporal matches a zone's wall clock literally: a cron at 02:30 does not fire on the day
 * that has no 02:30, and one at 01:30 fires twice on the day that has two. Refuse such
 * crons rather than let a digest silently skip or double. A cron that fires every hour is
 * exempt when the zone shifts by one hour: skipping or repeating an hour keeps its cadence.
 */
function daylightSavingProblem(cron: CronSchedule, zone: string, now: number, years: number): string | undefined {
  for (const transition of zoneTransitions(zone, now, years)) {
    if (cron.hour.any && Math.abs(transition.offsetAfter - transition.offsetBefore) === 60) continue;
    const { kind, minutes } = affectedWallClock(transition);
    const hit = minutes.find((minute) => cron.matches(minute));
    if (!hit) continue;
    const time = `${pad(hit.hour)}:${pad(hit.minute)}`;
    const date = `${hit.year}-${pad(hit.month)}-${pad(hit.day)}`;
    const what =
      kind === 'skipped'
        ? `does not exist on ${date} (clocks go forward), so that run would be skipped`
        : `happens twice on ${date} (clocks go back), so it would run twice`;
    return `cron "${cron.expression}" fires at ${time} in ${zone}, which ${what}; pick a time outside the change, or use timezone "UTC"`;
  }
  return undefined;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
