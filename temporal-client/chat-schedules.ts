import { createHash } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { validateTrigger, type TriggerDelivery, type TriggerOptions } from '../core/triggers.ts';
import type { AmbientRunInput } from '../core/ambient.ts';
import {
  CHAT_TRIGGER_PREFIX,
  SCHEDULE_ID_PREFIX,
  deploymentOf,
  desiredSchedule,
  managedMemo,
  ownerKeyOf,
  type SchedulePlace,
  type ScheduleMemo,
} from './schedule-spec.ts';
import { listScheduleMemos } from './schedule-list.ts';
import { formatInterval } from './schedules.ts';

/** Schedules one person may have made in chat, across every agent. */
export const MAX_SCHEDULES_PER_PERSON = 10;

/** Why a chat schedule request was refused; `type` is what the model is told. */
export type ChatScheduleRefusalType = 'InvalidSchedule' | 'TooManySchedules' | 'UnknownSchedule' | 'NotYourSchedule';

/** A request the person (or the model) can correct: bad cron, too many, not theirs. Nothing was changed. */
export class ChatScheduleRefusal extends Error {
  override name = 'ChatScheduleRefusal';
  readonly type: ChatScheduleRefusalType;
  constructor(type: ChatScheduleRefusalType, message: string) {
    super(message);
    this.type = type;
  }
}

/** The worker's Temporal client and its deployment's place: chat schedules are looked up within that deployment. */
export interface ChatSchedulesScope extends SchedulePlace {
  client: Client;
}

export interface ChatSchedulesOptions extends ChatSchedulesScope {
  /** @default MAX_SCHEDULES_PER_PERSON */
  maxPerPerson?: number;
}

export interface ChatScheduleRequest {
  /** The agent that runs at each firing (the one asked). */
  agent: string;
  /** Who asked: the only person who may stop it, and the approver of its runs' tool calls. */
  owner: string;
  conversationId: string;
  /** The same for every attempt of one request: a retried request finds the schedule it made. */
  requestKey: string;
  trigger: Pick<TriggerOptions, 'cron' | 'every' | 'timezone' | 'prompt' | 'deliver'>;
}

/** A chat-made schedule as its owner sees it. */
export interface ChatScheduleSummary {
  id: string;
  agent: string;
  owner: string;
  /** The cron expression, or `every <interval>`. */
  when: string;
  timezone: string;
  prompt: string;
  deliver: TriggerDelivery;
  paused: boolean;
  nextRun?: string;
}

/**
 * Creates the schedule a person asked for in chat, owned by them: id
 * `ambient:<deployment>:<agent>:chat-<short id>`, memo origin 'chat' with the owner's key
 * (sync never touches it), the trigger validated as a definition's would be. Refused past the
 * owner's bound, counted from Temporal's schedule list (which trails a creation by a moment).
 */
export async function createChatSchedule(options: ChatSchedulesOptions, request: ChatScheduleRequest): Promise<ChatScheduleSummary> {
  const { client } = options;
  const deployment = deploymentOf(options);
  const shortId = createHash('sha256').update(request.requestKey).digest('hex').slice(0, 8);
  let trigger;
  try {
    trigger = validateTrigger(request.agent, { ...request.trigger, id: `${CHAT_TRIGGER_PREFIX}${shortId}`, approvers: [request.owner] });
  } catch (error) {
    if (error instanceof TypeError) throw new ChatScheduleRefusal('InvalidSchedule', error.message);
    throw error;
  }
  const desired = desiredSchedule(
    request.agent,
    trigger,
    { taskQueue: options.taskQueue, deployment },
    { owner: request.owner, conversationId: request.conversationId },
  );
  const handle = client.schedule.getHandle(desired.id);
  // A retry of a request that got through: the schedule is there, and counts once.
  const earlier = await describeOrUndefined(client, desired.id);
  if (earlier && ownedBy(managedMemo(earlier.memo, deployment), deployment, [request.owner])) return summaryOf(earlier);

  const limit = options.maxPerPerson ?? MAX_SCHEDULES_PER_PERSON;
  const owned = await ownedIds(client, deployment, [request.owner]);
  if (owned.length >= limit) {
    throw new ChatScheduleRefusal(
      'TooManySchedules',
      `${request.owner} already has ${owned.length} schedules, the most one person may have (${limit}); stop one first (list_my_schedules shows them).`,
    );
  }
  try {
    await client.schedule.create(desired.options);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  return summaryOf(await handle.describe());
}

/** The chat-made schedules of these people (the asker) in the scope's deployment, described afresh, sorted by id. */
export async function listChatSchedules(scope: ChatSchedulesScope, owners: readonly string[]): Promise<ChatScheduleSummary[]> {
  const { client } = scope;
  const deployment = deploymentOf(scope);
  const summaries: ChatScheduleSummary[] = [];
  for (const id of await ownedIds(client, deployment, owners)) {
    const description = await describeOrUndefined(client, id);
    if (description && ownedBy(managedMemo(description.memo, deployment), deployment, owners)) summaries.push(summaryOf(description));
  }
  return summaries.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * Deletes a chat-made schedule when one of `requesters` owns it. `id` is the schedule id or
 * its trigger (`chat-…`). A definition's schedule, or someone else's, is refused and kept.
 */
export async function deleteChatSchedule(
  scope: ChatSchedulesScope,
  id: string,
  requesters: readonly string[],
): Promise<{ deleted: string }> {
  const { client } = scope;
  const deployment = deploymentOf(scope);
  const scheduleId = id.startsWith(SCHEDULE_ID_PREFIX) ? id : await idOfTrigger(client, deployment, id);
  const description = scheduleId ? await describeOrUndefined(client, scheduleId) : undefined;
  // Another deployment's schedule is not there, as far as this one is concerned.
  const memo = managedMemo(description?.memo, deployment);
  if (!scheduleId || !description || !memo) {
    throw new ChatScheduleRefusal('UnknownSchedule', `There is no schedule "${id}"; list_my_schedules shows the ids of yours.`);
  }
  if (memo.origin !== 'chat') {
    throw new ChatScheduleRefusal(
      'NotYourSchedule',
      `Schedule ${scheduleId} comes from the ${memo.agent} agent's definition, not from chat; it cannot be stopped from here.`,
    );
  }
  if (!ownedBy(memo, deployment, requesters)) {
    throw new ChatScheduleRefusal(
      'NotYourSchedule',
      `Schedule ${scheduleId} belongs to someone else; only the person who asked for it can stop it. It was not changed.`,
    );
  }
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  return { deleted: scheduleId };
}

/** Ids of the chat-made schedules these people own in the deployment, from the schedule list. */
async function ownedIds(client: Client, deployment: string, owners: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for await (const entry of listScheduleMemos(client)) {
    if (ownedBy(chatMemo(entry.scheduleId, entry.memo, deployment), deployment, owners)) ids.push(entry.scheduleId);
  }
  return ids;
}

async function idOfTrigger(client: Client, deployment: string, trigger: string): Promise<string | undefined> {
  if (!trigger.startsWith(CHAT_TRIGGER_PREFIX)) return undefined;
  for await (const entry of listScheduleMemos(client)) {
    if (chatMemo(entry.scheduleId, entry.memo, deployment)?.trigger === trigger) return entry.scheduleId;
  }
  return undefined;
}

function chatMemo(id: string, memo: Record<string, unknown> | undefined, deployment: string): ScheduleMemo | undefined {
  const managed = managedMemo(memo, deployment);
  return id.startsWith(SCHEDULE_ID_PREFIX) && managed?.origin === 'chat' ? managed : undefined;
}

/**
 * Whether one of these people owns the schedule: its memo's owner key is theirs. Slack ids and
 * email addresses compare as the approval check compares them: trimmed, any case.
 */
function ownedBy(memo: ScheduleMemo | undefined, deployment: string, people: readonly string[]): boolean {
  const key = memo?.ownerKey;
  return key !== undefined && people.some((person) => person.trim() !== '' && ownerKeyOf(deployment, person) === key);
}

function summaryOf(description: ScheduleDescription): ChatScheduleSummary {
  const memo = managedMemo(description.memo)!;
  const [input] = description.action.args as [(AmbientRunInput & { trigger: TriggerOptions }) | undefined];
  const calendar = description.spec.calendars?.[0];
  const interval = description.spec.intervals?.[0];
  const next = description.info.nextActionTimes[0];
  return {
    id: description.scheduleId,
    agent: memo.agent,
    // From the run's input (a payload the codec encrypts): the memo holds only a key.
    owner: input?.owner ?? '',
    when: calendar?.comment ?? (interval ? `every ${formatInterval(interval.every)}` : '?'),
    timezone: description.spec.timezone ?? 'UTC',
    prompt: input?.trigger.prompt ?? '',
    deliver: input!.trigger.deliver,
    paused: description.state.paused,
    ...(next ? { nextRun: next.toISOString() } : {}),
  };
}

async function describeOrUndefined(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}
