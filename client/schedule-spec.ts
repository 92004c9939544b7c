import { createHash } from 'node:crypto';
import type { Duration } from '@temporalio/common';
import { DAYS_OF_WEEK, MONTHS, ScheduleOverlapPolicy, type CalendarSpec, type LooseRange, type ScheduleDescription, type ScheduleOptions, type ScheduleUpdateOptions } from '@temporalio/client';
import { AMBIENT_RUN_WORKFLOW, type AmbientRunInput } from '../core/ambient.ts';
import { parseCron, type CronField } from '../core/cron.ts';
import type { TriggerSpec } from '../core/triggers.ts';

/** Every ambient schedule id starts so: `ambient:<agent>:<trigger>`. */
export const SCHEDULE_ID_PREFIX = 'ambient:';
export const MANAGED_BY = 'durable-agents';
/**
 * Fires missed while the server was unreachable are taken when it returns if they are at
 * most this late; older ones are dropped (a digest from three hours ago is noise).
 */
export const CATCHUP_WINDOW: Duration = '10 minutes';

export interface ScheduleMemo {
  managedBy: typeof MANAGED_BY;
  origin: 'definition' | 'chat';
  agent: string;
  trigger: string;
  /** Hash of the desired schedule (spec, action, policies): sync updates only when it differs. */
  digest: string;
  /** For chat-made schedules: the person who asked (a Slack user id or an email address); only they may stop it. */
  owner?: string;
}

/** Where a chat-made schedule came from: who asked, in which conversation. */
export interface ChatOrigin {
  owner: string;
  conversationId: string;
}

/** Trigger ids of chat-made schedules start so: `ambient:<agent>:chat-<short id>`. */
export const CHAT_TRIGGER_PREFIX = 'chat-';

export interface DesiredSchedule {
  id: string;
  memo: ScheduleMemo;
  options: ScheduleOptions;
}

export function scheduleIdOf(agent: string, trigger: string): string {
  return `${SCHEDULE_ID_PREFIX}${agent}:${trigger}`;
}

/**
 * The schedule a trigger asks for: its id, memo (with digest) and create options. A
 * definition's trigger by default; with `chat`, one a person asked for in a conversation.
 */
export function desiredSchedule(agent: string, trigger: TriggerSpec, taskQueue: string, chat?: ChatOrigin): DesiredSchedule {
  const id = scheduleIdOf(agent, trigger.id);
  const input: AmbientRunInput = chat ? { agent, trigger, origin: 'chat', owner: chat.owner } : { agent, trigger, origin: 'definition' };
  const spec: ScheduleOptions['spec'] = trigger.cron
    ? { calendars: [calendarOf(trigger.cron)], timezone: trigger.timezone }
    : { intervals: [{ every: trigger.every! }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW, pauseOnFailure: false };
  const staticSummary = `Ambient run of agent ${agent}, trigger ${trigger.id}`;
  const digest = digestOf({ spec, taskQueue, input, policies, staticSummary, workflowType: AMBIENT_RUN_WORKFLOW });
  const memo: ScheduleMemo = { managedBy: MANAGED_BY, origin: input.origin, agent, trigger: trigger.id, digest, ...(chat ? { owner: chat.owner } : {}) };
  const note = chat
    ? `Asked for in chat by ${chat.owner} (${chat.conversationId}); only they can stop it.`
    : `Trigger ${trigger.id} of agent ${agent}, from its definition; managed by npm run schedules -- sync.`;
  return {
    id,
    memo,
    options: {
      scheduleId: id,
      spec,
      // Temporal appends the fire time to the workflow id, so each run has its own.
      // The memo is repeated on the action because SDK 1.24's update cannot replace the
      // schedule's memo: the action's copy carries the current digest (see currentDigest).
      action: { type: 'startWorkflow', workflowType: AMBIENT_RUN_WORKFLOW, workflowId: id, taskQueue, args: [input], memo: { ...memo }, staticSummary },
      policies,
      memo: { ...memo },
      state: { note },
    },
  };
}

/** What sync sends to update an existing schedule: the desired parts, its pause state and note kept. */
export function updateOptionsOf(desired: DesiredSchedule, previous: ScheduleDescription): ScheduleUpdateOptions {
  const { spec, action, policies } = desired.options;
  return {
    spec,
    action,
    ...(policies ? { policies } : {}),
    state: {
      paused: previous.state.paused,
      ...(previous.state.note === undefined ? {} : { note: previous.state.note }),
      ...(previous.state.remainingActions === undefined ? {} : { remainingActions: previous.state.remainingActions }),
    },
  };
}

/** The memo of a schedule this project created, or undefined for anybody else's. */
export function managedMemo(memo: Record<string, unknown> | undefined): ScheduleMemo | undefined {
  if (memo?.managedBy !== MANAGED_BY) return undefined;
  if ((memo.origin !== 'definition' && memo.origin !== 'chat') || typeof memo.agent !== 'string' || typeof memo.trigger !== 'string') return undefined;
  return memo as unknown as ScheduleMemo;
}

/** A definition's schedule: the only kind sync may update or delete (chat-made ones belong to people). */
export function isDefinitionSchedule(memo: Record<string, unknown> | undefined): boolean {
  return managedMemo(memo)?.origin === 'definition';
}

/** The digest the schedule runs with now: the action's copy (updated), else the schedule's (creation). */
export function currentDigest(description: ScheduleDescription): string | undefined {
  const fromAction = description.action.memo?.digest;
  if (typeof fromAction === 'string') return fromAction;
  const fromSchedule = description.memo?.digest;
  return typeof fromSchedule === 'string' ? fromSchedule : undefined;
}

/**
 * The cron's fields as a Temporal calendar. Sending our own parse rather than the string
 * keeps the server's reading identical to what validation checked; the string stays as the
 * calendar's comment, shown in the Web UI.
 */
export function calendarOf(expression: string): CalendarSpec {
  const cron = parseCron(expression);
  return {
    second: 0,
    minute: rangesOf(cron.minute, (value) => value),
    hour: rangesOf(cron.hour, (value) => value),
    dayOfMonth: rangesOf(cron.dayOfMonth, (value) => value),
    month: rangesOf(cron.month, (value) => MONTHS[value - 1]!),
    dayOfWeek: rangesOf(cron.dayOfWeek, (value) => DAYS_OF_WEEK[value]!),
    comment: expression,
  };
}

function rangesOf<Unit>(field: CronField, unit: (value: number) => Unit): '*' | LooseRange<Unit>[] {
  if (field.any) return '*';
  const ranges: LooseRange<Unit>[] = [];
  let index = 0;
  while (index < field.values.length) {
    let last = index;
    while (last + 1 < field.values.length && field.values[last + 1] === field.values[last]! + 1) last += 1;
    const start = field.values[index]!;
    const end = field.values[last]!;
    ranges.push(start === end ? unit(start) : { start: unit(start), end: unit(end), step: 1 });
    index = last + 1;
  }
  return ranges;
}

function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
