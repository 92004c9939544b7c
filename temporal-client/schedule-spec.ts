import { createHash } from 'node:crypto';
import type { Duration } from '@temporalio/common';
import { DAYS_OF_WEEK, MONTHS, ScheduleOverlapPolicy, type CalendarSpec, type LooseRange, type ScheduleOptions } from '@temporalio/client';
import { AMBIENT_RUN_WORKFLOW, type AmbientRunInput } from '../core/ambient.ts';
import { parseCron, type CronField } from '../core/cron.ts';
import type { TriggerSpec } from '../core/triggers.ts';
import { canonicalJsonSha256 } from '../store/canonical-json.ts';

/** Every ambient schedule id starts so: `ambient:<deployment>:<agent>:<trigger>`. */
export const SCHEDULE_ID_PREFIX = 'ambient:';
export const MANAGED_BY = 'durable-agents';

/**
 * Where an installation's schedules live: the task queue their runs start on, and the
 * installation's name in the namespace (`AGENTS_DEPLOYMENT`, by default the task queue). The
 * name is in every schedule id and memo, so two installations sharing a namespace never
 * touch each other's schedules.
 */
export interface SchedulePlace {
  taskQueue: string;
  /** @default the task queue */
  deployment?: string;
}

/** The deployment name of a place, checked: it sits between colons in schedule ids. */
export function deploymentOf(place: SchedulePlace): string {
  const name = place.deployment ?? place.taskQueue;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
    throw new TypeError(
      `Deployment name "${name}" is not usable in schedule ids: letters, digits, '.', '_' and '-' only, at most 100 (set AGENTS_DEPLOYMENT).`,
    );
  }
  return name;
}
/**
 * Fires missed while the server was unreachable are taken when it returns if they are at
 * most this late; older ones are dropped (a digest from three hours ago is noise).
 */
export const CATCHUP_WINDOW: Duration = '10 minutes';

export interface ScheduleMemo {
  managedBy: typeof MANAGED_BY;
  /** The installation that owns it (`deploymentOf`); sync and the chat tools touch only their own. */
  deployment: string;
  origin: 'definition' | 'chat';
  agent: string;
  trigger: string;
  /** Hash of the desired schedule (spec, action, policies): sync updates only when it differs. */
  digest: string;
  /**
   * For chat-made schedules: who asked, as an opaque key (`ownerKeyOf`), never the Slack id or
   * address itself: memos are not encrypted by the payload codec. Only that person may stop it.
   */
  ownerKey?: string;
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

export function scheduleIdOf(deployment: string, agent: string, trigger: string): string {
  return `${SCHEDULE_ID_PREFIX}${deployment}:${agent}:${trigger}`;
}

/**
 * The key that stands for a chat schedule's owner in its memo: a hash of the deployment and
 * the person (trimmed, any case, as approvals compare them). It finds a person's schedules in
 * the schedule list without putting their Slack id or address there.
 */
export function ownerKeyOf(deployment: string, owner: string): string {
  return createHash('sha256')
    .update(`durable-agents schedule owner\0${deployment}\0${owner.trim().toLowerCase()}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The schedule a trigger asks for: its id, memo (with digest) and create options. A
 * definition's trigger by default; with `chat`, one a person asked for in a conversation.
 */
export function desiredSchedule(agent: string, trigger: TriggerSpec, place: SchedulePlace, chat?: ChatOrigin): DesiredSchedule {
  const { taskQueue } = place;
  const deployment = deploymentOf(place);
  const id = scheduleIdOf(deployment, agent, trigger.id);
  const input: AmbientRunInput = chat ? { agent, trigger, origin: 'chat', owner: chat.owner } : { agent, trigger, origin: 'definition' };
  const spec: ScheduleOptions['spec'] = trigger.cron
    ? { calendars: [calendarOf(trigger.cron)], timezone: trigger.timezone }
    : { intervals: [{ every: trigger.every! }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW, pauseOnFailure: false };
  const staticSummary = `Ambient run of agent ${agent}, trigger ${trigger.id}`;
  const digest = digestOf({ spec, taskQueue, input, policies, staticSummary, workflowType: AMBIENT_RUN_WORKFLOW });
  const memo: ScheduleMemo = {
    managedBy: MANAGED_BY,
    deployment,
    origin: input.origin,
    agent,
    trigger: trigger.id,
    digest,
    ...(chat ? { ownerKey: ownerKeyOf(deployment, chat.owner) } : {}),
  };
  // Notes and memos are shown in clear (the payload codec does not reach them): no person in them.
  const note = chat
    ? `Asked for in chat; only the person who asked can stop it (delete_schedule).`
    : `Trigger ${trigger.id} of agent ${agent}, from its definition; managed by npm run schedules -- sync.`;
  return {
    id,
    memo,
    options: {
      scheduleId: id,
      spec,
      // Temporal appends the fire time to the workflow id, so each run has its own.
      action: { type: 'startWorkflow', workflowType: AMBIENT_RUN_WORKFLOW, workflowId: id, taskQueue, args: [input], staticSummary },
      policies,
      memo: { ...memo },
      state: { note },
    },
  };
}

/**
 * The memo of a schedule this project created, or undefined for anybody else's. With
 * `deployment`, only that installation's; without, any installation's.
 */
export function managedMemo(memo: Record<string, unknown> | undefined, deployment?: string): ScheduleMemo | undefined {
  if (memo?.managedBy !== MANAGED_BY || typeof memo.deployment !== 'string') return undefined;
  if ((memo.origin !== 'definition' && memo.origin !== 'chat') || typeof memo.agent !== 'string' || typeof memo.trigger !== 'string')
    return undefined;
  if (deployment !== undefined && memo.deployment !== deployment) return undefined;
  return memo as unknown as ScheduleMemo;
}

/** A definition's schedule of this deployment: the only kind sync may replace or delete (chat-made ones belong to people). */
export function isDefinitionSchedule(memo: Record<string, unknown> | undefined, deployment: string): boolean {
  return managedMemo(memo, deployment)?.origin === 'definition';
}

/**
 * A schedule an earlier version made, before ids and memos named the deployment
 * (`ambient:<agent>:<trigger>`, memo without `deployment`): sync deletes those of its task
 * queue from the definition, as their replacements exist under the new ids.
 */
export function isLegacyDefinitionSchedule(memo: Record<string, unknown> | undefined): boolean {
  return memo?.managedBy === MANAGED_BY && memo.deployment === undefined && memo.origin === 'definition';
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
  return canonicalJsonSha256(value).slice(0, 32);
}
