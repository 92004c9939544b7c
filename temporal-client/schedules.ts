import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import { listScheduleMemos, type ListedSchedule } from './schedule-list.ts';
import type { AmbientRunInput, AmbientRunResult } from '../core/ambient.ts';
import type { AgentDefinition } from '../authoring/define-agent.ts';
import {
  SCHEDULE_ID_PREFIX,
  deploymentOf,
  desiredSchedule,
  isDefinitionSchedule,
  isLegacyDefinitionSchedule,
  managedMemo,
  scheduleIdOf,
  type DesiredSchedule,
  type SchedulePlace,
  type ScheduleMemo,
} from './schedule-spec.ts';

export interface SyncOptions extends SchedulePlace {
  client: Client;
  agents: Iterable<AgentDefinition>;
  /** Schedules created, replaced or deleted at once. @default 8 */
  concurrency?: number;
}

export interface SyncSummary {
  created: string[];
  /** Replaced: a changed trigger's schedule is deleted and made again (its pause state and note kept). */
  updated: string[];
  deleted: string[];
  unchanged: string[];
  /** Ids a trigger wants that hold a schedule sync did not create: left alone. */
  conflicts: string[];
  /** Temporal requests made (list pages, describe, create, delete). */
  calls: number;
}

/**
 * Makes Temporal's schedules match the agents' triggers, from one schedule list: each memo
 * names the deployment and carries a digest of what the trigger asked for, so a schedule
 * whose digest matches costs nothing more. It creates the missing, replaces the changed,
 * deletes this deployment's definition schedules whose trigger is gone, and deletes the
 * schedules an earlier version made for this task queue under ids without the deployment.
 * Schedules of other deployments, schedules it did not create and chat-made ones are never
 * touched. Idempotent, and safe when several workers run it at once: a lost race to create,
 * replace or delete counts as done.
 *
 * A change replaces the schedule rather than updating it because Temporal's update cannot
 * change a schedule's memo: the list would then show a stale digest forever. Replacing drops
 * the schedule's run history (the runs' memory keeps the cursor), and a run of the old
 * schedule still going is not seen by the new one's overlap policy.
 *
 * The list trails changes by a moment: a schedule created a second ago may not show yet
 * (its create is then refused as existing, and it is described), and one deleted a second
 * ago may still show (deleting it again is harmless).
 */
export async function syncSchedules(options: SyncOptions): Promise<SyncSummary> {
  const { client, taskQueue } = options;
  const deployment = deploymentOf(options);
  const place = { taskQueue, deployment };
  const concurrency = options.concurrency ?? 8;
  const summary: SyncSummary = { created: [], updated: [], deleted: [], unchanged: [], conflicts: [], calls: 0 };
  const desired = [...options.agents].flatMap((agent) => agent.triggers.map((trigger) => desiredSchedule(agent.name, trigger, place)));
  const wanted = new Set(desired.map((schedule) => schedule.id));

  const listed = await listAmbient(client, summary);
  await forEachConcurrently(desired, concurrency, async (schedule) => {
    const outcome = await applyDesired(client, schedule, listed.get(schedule.id), deployment, summary);
    summary[outcome].push(schedule.id);
  });

  const gone = [...listed.values()].filter((entry) => !wanted.has(entry.scheduleId) && isDefinitionSchedule(entry.memo, deployment));
  const legacy = [...listed.values()].filter((entry) => isLegacyDefinitionSchedule(entry.memo));
  await forEachConcurrently([...gone, ...legacy], concurrency, async (entry) => {
    if (isLegacyDefinitionSchedule(entry.memo)) {
      // An earlier version's schedule: its memo does not say whose it is, its task queue does.
      const description = await describeOrUndefined(client.schedule.getHandle(entry.scheduleId), summary);
      if (!description || !isLegacyDefinitionSchedule(description.memo) || description.action.taskQueue !== taskQueue) return;
    }
    summary.calls += 1;
    // The list may still show one deleted a moment ago (by us or another sync): not reported again.
    if (await ignoreNotFound(client.schedule.getHandle(entry.scheduleId).delete())) summary.deleted.push(entry.scheduleId);
  });
  for (const list of [summary.created, summary.updated, summary.deleted, summary.unchanged, summary.conflicts]) list.sort();
  return summary;
}

/** The ambient schedules in the namespace's schedule list, by id; each page counted as a call. */
async function listAmbient(client: Client, counter: { calls: number }): Promise<Map<string, ListedSchedule>> {
  const listed = new Map<string, ListedSchedule>();
  for await (const entry of listScheduleMemos(client, () => (counter.calls += 1))) {
    if (entry.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) listed.set(entry.scheduleId, entry);
  }
  return listed;
}

type Outcome = 'created' | 'updated' | 'unchanged' | 'conflicts';

async function applyDesired(
  client: Client,
  schedule: DesiredSchedule,
  listed: ListedSchedule | undefined,
  deployment: string,
  summary: SyncSummary,
): Promise<Outcome> {
  // The listed memo decides: the same digest costs nothing more.
  if (listed?.memo && isDefinitionSchedule(listed.memo, deployment) && managedMemo(listed.memo)?.digest === schedule.memo.digest)
    return 'unchanged';
  if (!listed) {
    try {
      summary.calls += 1;
      await client.schedule.create(schedule.options);
      return 'created';
    } catch (error) {
      // Another sync made it a moment ago (the list trails), or somebody else holds the id.
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    }
  }
  // Changed, someone else's, or not listed yet: the description is the authority (the list
  // may trail a pause or another sync's replacement).
  const description = await describeOrUndefined(client.schedule.getHandle(schedule.id), summary);
  if (!description) return 'unchanged';
  if (!isDefinitionSchedule(description.memo, deployment)) return 'conflicts';
  if (managedMemo(description.memo)?.digest === schedule.memo.digest) return 'unchanged';
  return replace(client, schedule, description.state, summary);
}

/** Deletes the schedule and makes it again as desired, keeping whether it was paused and why. */
async function replace(
  client: Client,
  schedule: DesiredSchedule,
  state: ScheduleDescription['state'],
  summary: SyncSummary,
): Promise<Outcome> {
  summary.calls += 2;
  await ignoreNotFound(client.schedule.getHandle(schedule.id).delete());
  try {
    await client.schedule.create({
      ...schedule.options,
      state: { ...schedule.options.state, paused: state.paused, ...(state.note === undefined ? {} : { note: state.note }) },
    });
    return 'updated';
  } catch (error) {
    // Another sync replaced it between our delete and create.
    if (error instanceof ScheduleAlreadyRunning) return 'unchanged';
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
  /** Also describe these agents' schedules, even before the schedule list shows them (needs `deployment` or `taskQueue`). */
  agents?: Iterable<AgentDefinition>;
  /** Only this deployment's schedules (`AGENTS_DEPLOYMENT`). @default the task queue, when given; else every deployment */
  deployment?: string;
  /** The deployment's task queue: names the deployment when `deployment` is not given. */
  taskQueue?: string;
  /** How long to wait for a completed run's result. @default 2000 */
  resultTimeoutMs?: number;
}

/** The ambient schedules (definition and chat-made), each described afresh, sorted by id. */
export async function listSchedules(options: ListOptions): Promise<ScheduleRow[]> {
  const { client } = options;
  const deployment = options.deployment ?? options.taskQueue;
  const ids = new Set<string>();
  if (deployment !== undefined) {
    for (const agent of options.agents ?? [])
      for (const trigger of agent.triggers) ids.add(scheduleIdOf(deployment, agent.name, trigger.id));
  }
  for await (const entry of listScheduleMemos(client)) {
    if (entry.scheduleId.startsWith(SCHEDULE_ID_PREFIX) && managedMemo(entry.memo, deployment)) ids.add(entry.scheduleId);
  }
  const rows: ScheduleRow[] = [];
  const counter = { calls: 0 };
  await forEachConcurrently([...ids], 8, async (id) => {
    const description = await describeOrUndefined(client.schedule.getHandle(id), counter);
    const memo = managedMemo(description?.memo, deployment);
    if (!description || !memo) return;
    rows.push(await rowOf(client, description, memo, options.resultTimeoutMs ?? 2000));
  });
  return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
}

async function rowOf(client: Client, description: ScheduleDescription, memo: ScheduleMemo, resultTimeoutMs: number): Promise<ScheduleRow> {
  const calendar = description.spec.calendars?.[0];
  const interval = description.spec.intervals?.[0];
  const last = description.info.recentActions.at(-1);
  // The owner is in the run's input (a payload, which the codec encrypts), not in the memo.
  const owner = (description.action.args?.[0] as AmbientRunInput | undefined)?.owner;
  return {
    id: description.scheduleId,
    agent: memo.agent,
    trigger: memo.trigger,
    origin: memo.origin,
    ...(memo.origin === 'chat' && owner ? { owner } : {}),
    when: calendar?.comment ?? (interval ? `every ${formatInterval(interval.every)}` : '?'),
    timezone: description.spec.timezone ?? 'UTC',
    paused: description.state.paused,
    ...(description.state.note ? { note: description.state.note } : {}),
    ...(description.info.nextActionTimes[0] ? { nextRun: description.info.nextActionTimes[0] } : {}),
    ...(last ? { lastRunAt: last.takenAt, lastOutcome: await outcomeOf(client, last.action.workflow, resultTimeoutMs) } : {}),
  };
}

async function outcomeOf(
  client: Client,
  workflow: { workflowId: string; firstExecutionRunId: string },
  timeoutMs: number,
): Promise<string> {
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
    throw new UnknownScheduleError(
      `No ambient schedule "${id}"; ids look like ambient:<deployment>:<agent>:<trigger> (npm run schedules -- list).`,
    );
  }
  return handle;
}

async function describeOrUndefined(
  handle: ReturnType<Client['schedule']['getHandle']>,
  counter: { calls: number },
): Promise<ScheduleDescription | undefined> {
  counter.calls += 1;
  try {
    return await handle.describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}

/** Whether the schedule was there: false when it was already gone. */
async function ignoreNotFound(operation: Promise<void>): Promise<boolean> {
  try {
    await operation;
    return true;
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    return false;
  }
}

export function formatInterval(milliseconds: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
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
