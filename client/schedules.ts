import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription } from '@temporalio/client';
import type { AmbientRunResult } from '../core/ambient.ts';
import type { AgentDefinition } from '../core/define-agent.ts';
import {
  SCHEDULE_ID_PREFIX,
  currentDigest,
  desiredSchedule,
  isDefinitionSchedule,
  managedMemo,
  updateOptionsOf,
  type DesiredSchedule,
  type ScheduleMemo,
} from './schedule-spec.ts';

export interface SyncOptions {
  client: Client;
  /** The agents' task queue: where the schedules start runs, and the scope of deletions. */
  taskQueue: string;
  agents: Iterable<AgentDefinition>;
  /** Schedules described, created or updated at once. @default 8 */
  concurrency?: number;
}

export interface SyncSummary {
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: string[];
  /** Ids a trigger wants that hold a schedule sync did not create: left alone. */
  conflicts: string[];
  /** Temporal requests made (describe, create, update, delete, list pages). */
  calls: number;
}

/** Raised inside an update when the schedule already is what sync wants (another sync got there first). */
class AlreadyCurrent extends Error {}
/** Raised inside an update when the schedule is no longer one sync may touch. */
class NotOurs extends Error {}

/**
 * Makes Temporal's schedules match the agents' triggers: creates the missing, updates the
 * changed (memo digest), deletes definition schedules of this task queue whose trigger is
 * gone. Schedules it did not create, and chat-made ones, are never touched. Idempotent, and
 * safe when several workers run it at once: a lost race to create, update or delete counts
 * as done. Deletion relies on the schedule list, which Temporal updates a moment after a
 * change; a schedule created a second ago is deleted by the next sync.
 */
export async function syncSchedules(options: SyncOptions): Promise<SyncSummary> {
  const { client, taskQueue } = options;
  const summary: SyncSummary = { created: [], updated: [], deleted: [], unchanged: [], conflicts: [], calls: 0 };
  const desired = [...options.agents].flatMap((agent) => agent.triggers.map((trigger) => desiredSchedule(agent.name, trigger, taskQueue)));
  const wanted = new Set(desired.map((schedule) => schedule.id));

  await forEachConcurrently(desired, options.concurrency ?? 8, async (schedule) => {
    const outcome = await applyDesired(client, schedule, summary);
    summary[outcome].push(schedule.id);
  });

  const candidates: string[] = [];
  let listed = 0;
  for await (const entry of client.schedule.list({ pageSize: LIST_PAGE_SIZE })) {
    listed += 1;
    if (entry.scheduleId.startsWith(SCHEDULE_ID_PREFIX) && !wanted.has(entry.scheduleId) && isDefinitionSchedule(entry.memo)) candidates.push(entry.scheduleId);
  }
  summary.calls += Math.max(1, Math.ceil(listed / LIST_PAGE_SIZE));
  await forEachConcurrently(candidates, options.concurrency ?? 8, async (id) => {
    const handle = client.schedule.getHandle(id);
    const description = await describeOrUndefined(handle, summary);
    // Another deployment's task queue is another deployment's definitions.
    if (!description || !isDefinitionSchedule(description.memo) || description.action.taskQueue !== taskQueue) return;
    summary.calls += 1;
    await ignoreNotFound(handle.delete());
    summary.deleted.push(id);
  });
  for (const list of [summary.created, summary.updated, summary.deleted, summary.unchanged, summary.conflicts]) list.sort();
  return summary;
}

const LIST_PAGE_SIZE = 1000;

async function applyDesired(client: Client, schedule: DesiredSchedule, summary: SyncSummary): Promise<'created' | 'updated' | 'unchanged' | 'conflicts'> {
  const handle = client.schedule.getHandle(schedule.id);
  let description = await describeOrUndefined(handle, summary);
  if (!description) {
    try {
      summary.calls += 1;
      await client.schedule.create(schedule.options);
      return 'created';
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      // Another sync created it a moment ago: look at what it made.
      description = await describeOrUndefined(handle, summary);
      if (!description) return 'unchanged';
    }
  }
  if (!isDefinitionSchedule(description.memo)) return 'conflicts';
  if (currentDigest(description) === schedule.memo.digest) return 'unchanged';
  try {
    // update() describes again and sends the result; re-checking there narrows the window
    // in which two syncs both update (SDK 1.24 sends no conflict token).
    summary.calls += 2;
    await handle.update((previous) => {
      if (!isDefinitionSchedule(previous.memo)) throw new NotOurs();
      if (currentDigest(previous) === schedule.memo.digest) throw new AlreadyCurrent();
      return updateOptionsOf(schedule, previous);
    });
    return 'updated';
  } catch (error) {
    if (error instanceof AlreadyCurrent || error instanceof ScheduleNotFoundError) return 'unchanged';
    if (error instanceof NotOurs) return 'conflicts';
    throw error;
  }
}

export interface ScheduleRow {
  id: string;
  agent: string;
  trigger: string;
  origin: 'definition' | 'chat';
  /** Who asked for a chat-made schedule. */
  owner?: string;
  /** The cron expression, or `every <interval>`. */
  when: string;
  timezone: string;
  paused: boolean;
  note?: string;
  nextRun?: Date;
  lastRunAt?: Date;
  /** The last run's `outcome` when it completed, else 'running', 'failed', 'unknown'; undefined before any run. */
  lastOutcome?: string;
}

export interface ListOptions {
  client: Client;
  /** Also describe these agents' schedules, even before the schedule list shows them. */
  agents?: Iterable<AgentDefinition>;
  /** Only schedules that start runs on this task queue. @default every task queue */
  taskQueue?: string;
  /** How long to wait for a completed run's result. @default 2000 */
  resultTimeoutMs?: number;
}

/** The ambient schedules (definition and chat-made), each described afresh, sorted by id. */
export async function listSchedules(options: ListOptions): Promise<ScheduleRow[]> {
  const { client } = options;
  const ids = new Set<string>();
  for (const agent of options.agents ?? []) for (const trigger of agent.triggers) ids.add(`${SCHEDULE_ID_PREFIX}${agent.name}:${trigger.id}`);
  for await (const entry of client.schedule.list({ pageSize: LIST_PAGE_SIZE })) {
    if (entry.scheduleId.startsWith(SCHEDULE_ID_PREFIX) && managedMemo(entry.memo)) ids.add(entry.scheduleId);
  }
  const rows: ScheduleRow[] = [];
  const counter = { calls: 0 };
  await forEachConcurrently([...ids], 8, async (id) => {
    const description = await describeOrUndefined(client.schedule.getHandle(id), counter);
    const memo = managedMemo(description?.memo);
    if (!description || !memo) return;
    if (options.taskQueue !== undefined && description.action.taskQueue !== options.taskQueue) return;
    rows.push(await rowOf(client, description, memo, options.resultTimeoutMs ?? 2000));
  });
  return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
}

async function rowOf(client: Client, description: ScheduleDescription, memo: ScheduleMemo, resultTimeoutMs: number): Promise<ScheduleRow> {
  const calendar = description.spec.calendars?.[0];
  const interval = description.spec.intervals?.[0];
  const last = description.info.recentActions.at(-1);
  return {
    id: description.scheduleId,
    agent: memo.agent,
    trigger: memo.trigger,
    origin: memo.origin,
    ...(memo.owner ? { owner: memo.owner } : {}),
    when: calendar?.comment ?? (interval ? `every ${formatInterval(interval.every)}` : '?'),
    timezone: description.spec.timezone ?? 'UTC',
    paused: description.state.paused,
    ...(description.state.note ? { note: description.state.note } : {}),
    ...(description.info.nextActionTimes[0] ? { nextRun: description.info.nextActionTimes[0] } : {}),
    ...(last ? { lastRunAt: last.takenAt, lastOutcome: await outcomeOf(client, last.action.workflow, resultTimeoutMs) } : {}),
  };
}

async function outcomeOf(client: Client, workflow: { workflowId: string; firstExecutionRunId: string }, timeoutMs: number): Promise<string> {
  const handle = client.workflow.getHandle(workflow.workflowId, workflow.firstExecutionRunId);
  try {
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') return 'running';
    if (status.name !== 'COMPLETED' && status.name !== 'CONTINUED_AS_NEW') return 'failed';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'unknown'>((resolve) => {
      timer = setTimeout(() => resolve('unknown'), timeoutMs);
    });
    try {
      const result = await Promise.race([handle.result() as Promise<AmbientRunResult | undefined>, timeout]);
      if (result === 'unknown') return result;
      return typeof result?.outcome === 'string' ? result.outcome : 'completed';
    } finally {
      clearTimeout(timer);
    }
  } catch {
    // Retention may have removed the run, or its result is not ours to read.
    return 'unknown';
  }
}

/** Thrown for an id that is not an ambient schedule (missing, or somebody else's). */
export class UnknownScheduleError extends Error {
  override name = 'UnknownScheduleError';
}

/**
 * Runs the schedule now. Overlap SKIP, stated here because the SDK's trigger defaults to
 * ALLOW_ALL: a trigger while a run is going (or two at once) starts one run, not two.
 */
export async function triggerSchedule(client: Client, id: string): Promise<void> {
  const handle = await managedHandle(client, id);
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
}

export async function pauseSchedule(client: Client, id: string, note = 'Paused with npm run schedules -- pause.'): Promise<void> {
  await (await managedHandle(client, id)).pause(note);
}

export async function unpauseSchedule(client: Client, id: string, note = 'Unpaused with npm run schedules -- unpause.'): Promise<void> {
  await (await managedHandle(client, id)).unpause(note);
}

async function managedHandle(client: Client, id: string) {
  const handle = client.schedule.getHandle(id);
  const description = await describeOrUndefined(handle, { calls: 0 });
  if (!description || !id.startsWith(SCHEDULE_ID_PREFIX) || !managedMemo(description.memo)) {
    throw new UnknownScheduleError(`No ambient schedule "${id}"; ids look like ambient:<agent>:<trigger> (npm run schedules -- list).`);
  }
  return handle;
}

async function describeOrUndefined(handle: ReturnType<Client['schedule']['getHandle']>, counter: { calls: number }): Promise<ScheduleDescription | undefined> {
  counter.calls += 1;
  try {
    return await handle.describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}

async function ignoreNotFound(operation: Promise<void>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
}

export function formatInterval(milliseconds: number): string {
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's']];
  for (const [size, suffix] of units) if (milliseconds % size === 0) return `${milliseconds / size}${suffix}`;
  return `${milliseconds}ms`;
}

async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(lanes);
}
