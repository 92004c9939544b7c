import { ApplicationFailure } from '@temporalio/common';
import type { WebClient } from '@slack/web-api';
import type { ReplyChannel } from '../../core/conversation.ts';
import { APPROVAL_TOKEN_PURPOSE } from '../../events/inbound-event.ts';
import { signToken } from '../../events/signed-token.ts';
import { markdownToMrkdwn, splitMessage } from './markdown.ts';
import type { ApprovalEnded, ApprovalRequest, ReplyAdapter, StartedThread, ThreadStart, TurnStatus } from './reply-channel.ts';
import { createSlackCaller, type SlackCaller, type SlackCallerOptions } from './slack-client.ts';
import { assistantStatus, isAssistantThread } from './slack-assistant-status.ts';
import type { RecordFiles } from '../../store/record-files.ts';
import type { PostedReplies } from '../../store/posted-replies.ts';
import { createTaskSteps, type TaskSteps } from './slack-task-steps.ts';
import { createAgentSessions, type AgentSessions } from './slack-session.ts';
import { canStream } from './slack-stream.ts';
import { approvalBlocks, endedApprovalBlocks, feedbackBlock, statusText } from './slack-messages.ts';
import {
  createBotIdentity,
  findMarkedPosts,
  findMarkedReplies,
  markId,
  replyMetadata,
  type BotIdentity,
  type ReplyMark,
} from './slack-thread.ts';
import { createCoalescingThrottle } from './slack-throttle.ts';
import { addNewest, setNewest } from '../../core/bounded.ts';

export interface SlackReplyAdapterOptions {
  /** A client from `createSlackWebClient` (no retries of its own, 429s thrown). */
  client: WebClient;
  /** Signs the approval buttons; the ingress verifies with the same secret (`APPROVAL_TOKEN_SECRET`). */
  approvalTokenSecret: string;
  /** Least time between two updates of one status message. @default 1000 ms */
  statusIntervalMs?: number;
  /** Longest message; longer answers are split on paragraph boundaries. @default 3000 */
  maxMessageChars?: number;
  /** How 429s are waited out. @default createSlackCaller's defaults */
  rateLimits?: SlackCallerOptions;
  /** Replies remembered in process before the thread is read again. @default 10000 */
  maxRememberedReplies?: number;
  /**
   * Let answers mention people, groups, `@here`, `@channel` and `@everyone`. Model text is
   * untrusted: off, every mention in it is shown as text and notifies nobody. @default false
   */
  allowMentions?: boolean;
  /** Messages one answer may take; the rest is cut with a note. @default 20 */
  maxAnswerMessages?: number;
  /**
   * How often the assistant status of a working turn is set again: Slack clears it after two
   * minutes without a message. @default 90000 ms
   */
  assistantStatusRefreshMs?: number;
  /**
   * Show a turn's status as its thread's agent session (`agents.sessions.setStatus`: Slack's
   * status line and stop button, in DMs and channels). An app Slack does not take as an agent
   * (still on `assistant_view`) falls back, after one refused call, to the assistant status
   * in DMs and a status message in channels. @default true
   */
  agentSessions?: boolean;
  /**
   * Where each posted message's ts is kept by its mark (`createPostedReplies`: the record files
   * next to the transcript store), so a retried call on any worker finds what an earlier attempt
   * posted without reading the thread back. @default none: the thread is read back (`conversations.replies`)
   */
  posted?: PostedReplies;
  /**
   * Where each turn's steps message (task cards) is recorded, so a worker that takes over after
   * a crash appends to it. Task cards are shown where agent sessions are (an agent app). @default in process only
   */
  stepRecords?: RecordFiles;
  /** @default Date.now */
  now?: () => number;
}

type SlackChannel = Extract<ReplyChannel, { kind: 'slack' }>;
/** A thread, or the channel's top level when `threadTs` is ''. */
type SlackPlace = Pick<SlackChannel, 'channelId' | 'threadTs'>;
type StatusUpdate = { channel: SlackChannel; text: string; status: TurnStatus };

/** What one adapter holds: its Slack calls, its limits, and what it remembers in this process. */
interface SlackReplyState {
  options: SlackReplyAdapterOptions;
  client: WebClient;
  callSlack: SlackCaller;
  now: () => number;
  maxMessageChars: number;
  maxRemembered: number;
  maxAnswerMessages: number;
  refreshMs: number;
  botIdentity: () => Promise<BotIdentity>;
  sessions: AgentSessions;
  steps: TaskSteps;
  /** markId → ts of replies this process posted or found. */
  posted: Map<string, string>;
  /** Turns whose status reached done or stopped: a late retry of an older status must not undo it. */
  finished: Set<string>;
  /** The call running for each key (`serially`). */
  locks: Map<string, Promise<unknown>>;
  /** The bot's own team id, asked once (`teamId`). */
  workspace: Promise<string> | undefined;
  /** Turns whose assistant status is set again before Slack's two minutes run out. */
  refreshers: Map<string, ReturnType<typeof setInterval>>;
  /** Threads where Slack refused an assistant status: they get a status message instead. */
  noAssistantStatus: Set<string>;
  /** Status updates, throttled and coalesced per turn (`sendStatusNow` sends one). */
  sendStatus: (turn: string, update: StatusUpdate) => Promise<void>;
}

/**
 * Replies in a Slack thread: one status message per turn, edited as the turn moves on
 * (throttled and coalesced); the answer as mrkdwn, split into several messages when long;
 * approval requests as buttons. Each message is marked with its turn key in Slack message
 * metadata, and a retried call first looks for the mark, so nothing is posted twice.
 * `startThread` posts a new top-level message (an ambient run's result; a long one continues
 * in its thread), found again the same way in the channel's recent history.
 */
export function createSlackReplyAdapter(options: SlackReplyAdapterOptions): ReplyAdapter {
  const state = createSlackReplyState(options);
  return {
    status: async (channel, key, status) => showStatus(state, slackChannel(channel), key, status),
    answer: async (channel, key, text) => postAnswer(state, slackChannel(channel), key, text),
    requestApproval: async (channel, request) => postApprovalRequest(state, slackChannel(channel), request),
    approvalEnded: async (channel, request, ended) => markApprovalEnded(state, slackChannel(channel), request, ended),
    startThread: (target, key, text) => startSlackThread(state, target, key, text),
  };
}

function createSlackReplyState(options: SlackReplyAdapterOptions): SlackReplyState {
  const { client } = options;
  const now = options.now ?? Date.now;
  const callSlack = createSlackCaller({ now, ...options.rateLimits });
  const state: SlackReplyState = {
    options,
    client,
    callSlack,
    now,
    maxMessageChars: options.maxMessageChars ?? 3000,
    maxRemembered: options.maxRememberedReplies ?? 10_000,
    maxAnswerMessages: options.maxAnswerMessages ?? 20,
    refreshMs: options.assistantStatusRefreshMs ?? 90_000,
    botIdentity: createBotIdentity(client, callSlack),
    sessions: createAgentSessions(client, callSlack, options.agentSessions ?? true),
    steps: createTaskSteps({ client, callSlack, ...(options.stepRecords ? { records: options.stepRecords } : {}), now }),
    posted: new Map(),
    finished: new Set(),
    locks: new Map(),
    workspace: undefined,
    refreshers: new Map(),
    noAssistantStatus: new Set(),
    sendStatus: (turn, update) => throttledStatus(turn, update),
  };
  const throttledStatus = createCoalescingThrottle<StatusUpdate>({
    intervalMs: options.statusIntervalMs ?? 1000,
    now,
    send: (turn, update) => serially(state, `status\u0000${turn}`, () => sendStatusNow(state, turn, update)),
  });
  return state;
}

function remember(state: SlackReplyState, id: string, ts: string): void {
  setNewest(state.posted, id, ts, state.maxRemembered);
}

/** One call at a time per key in this process, so two attempts never both post. */
async function serially<Result>(state: SlackReplyState, key: string, work: () => Promise<Result>): Promise<Result> {
  const previous = state.locks.get(key) ?? Promise.resolve();
  const current = previous.catch(() => undefined).then(work);
  state.locks.set(key, current);
  try {
    return await current;
  } finally {
    if (state.locks.get(key) === current) state.locks.delete(key);
  }
}

/**
 * ts of each mark already in the thread (or the channel): from memory, else from the posted
 * records, else (no records, or an attempt that died mid-post) by reading the thread once.
 */
async function existing(state: SlackReplyState, channel: SlackPlace, key: string, marks: ReplyMark[]): Promise<(string | undefined)[]> {
  const { client, callSlack, posted } = state;
  const ids = marks.map((mark) => markId(channel.channelId, channel.threadTs, mark));
  if (ids.every((id) => posted.has(id))) return ids.map((id) => posted.get(id));
  if (state.options.posted) {
    const recorded = await state.options.posted.lookup(ids);
    if (!recorded.includes('pending')) {
      for (const [index, ts] of recorded.entries()) if (ts !== undefined) remember(state, ids[index] as string, ts);
      return recorded as (string | undefined)[];
    }
  }
  const identity = await state.botIdentity();
  const found =
    channel.threadTs === ''
      ? await findMarkedPosts(client, callSlack, channel.channelId, key, identity)
      : await findMarkedReplies(client, callSlack, channel, key, identity);
  for (const [id, ts] of found) remember(state, id, ts);
  return ids.map((id) => found.get(id));
}

async function post(
  state: SlackReplyState,
  channel: SlackPlace,
  mark: ReplyMark,
  parts: number,
  content: { text: string; blocks?: unknown[] },
): Promise<string> {
  const { client, options } = state;
  const id = markId(channel.channelId, channel.threadTs, mark);
  await options.posted?.claim(id);
  const result = await state.callSlack('chat.postMessage', () =>
    client.chat.postMessage({
      channel: channel.channelId,
      ...(channel.threadTs === '' ? {} : { thread_ts: channel.threadTs }),
      text: content.text,
      ...(content.blocks ? { blocks: content.blocks as never } : {}),
      metadata: replyMetadata(mark, parts),
      unfurl_links: false,
    }),
  );
  if (!result.ts) throw new Error('Slack chat.postMessage answered without a ts');
  remember(state, id, result.ts);
  await options.posted?.record(id, result.ts);
  return result.ts;
}

/** The bot's own team id, asked once: a trigger may leave its workspace out. */
function teamId(state: SlackReplyState): Promise<string> {
  state.workspace ??= state
    .callSlack('auth.test', () => state.client.auth.test())
    .then((result) => {
      if (!result.team_id) throw new Error('Slack auth.test answered without a team_id');
      return result.team_id;
    });
  return state.workspace.catch((error: unknown) => {
    state.workspace = undefined;
    throw error;
  });
}

/** The answer as mrkdwn messages, split at paragraph boundaries: no mentions unless allowed, at most `maxAnswerMessages`. */
function answerParts(state: SlackReplyState, text: string): string[] {
  const { maxAnswerMessages } = state;
  const converted = markdownToMrkdwn(text, { allowMentions: state.options.allowMentions === true });
  const parts = converted === '' ? ['_(The agent gave no answer.)_'] : splitMessage(converted, state.maxMessageChars);
  if (parts.length <= maxAnswerMessages) return parts;
  const cut = parts.slice(maxAnswerMessages - 1).reduce((sum, part) => sum + part.length, 0);
  return [
    ...parts.slice(0, maxAnswerMessages - 1),
    `_(The answer continues for ${cut} more characters, not posted: an answer takes at most ${maxAnswerMessages} messages.)_`,
  ];
}

function stopRefreshing(state: SlackReplyState, turn: string): void {
  clearInterval(state.refreshers.get(turn));
  state.refreshers.delete(turn);
}

/** `assistant.threads.setStatus`, and again every `refreshMs` while the turn works; '' clears it. */
async function setAssistantStatus(state: SlackReplyState, turn: string, channel: SlackChannel, status: TurnStatus): Promise<void> {
  const shown = assistantStatus(status);
  const call = () =>
    state.callSlack('assistant.threads.setStatus', () =>
      state.client.assistant.threads.setStatus({
        channel_id: channel.channelId,
        thread_ts: channel.threadTs,
        status: shown.status,
        ...(shown.loadingMessages.length ? { loading_messages: shown.loadingMessages } : {}),
      }),
    );
  stopRefreshing(state, turn);
  await call();
  if (shown.status === '') return;
  const timer = setInterval(() => {
    call().catch(() => stopRefreshing(state, turn));
  }, state.refreshMs);
  timer.unref();
  state.refreshers.set(turn, timer);
}

/** One status update as the thread can show it: the agent session, else the assistant status, else a status message. */
async function sendStatusNow(state: SlackReplyState, turn: string, { channel, text, status }: StatusUpdate): Promise<void> {
  // Sessions show every state, the stop button included.
  if (await state.sessions.set(channel, status)) return;
  const place = `${channel.channelId}\u0000${channel.threadTs}`;
  if (isAssistantThread(channel) && !state.noAssistantStatus.has(place)) {
    try {
      return await setAssistantStatus(state, turn, channel, status);
    } catch (error) {
      // Not an assistant thread after all (a plain DM without the assistant view): the status message it is.
      if (!(error instanceof ApplicationFailure) || error.type !== 'SlackRefused') throw error;
      state.noAssistantStatus.add(place);
    }
  }
  const mark: ReplyMark = { key: turn, role: 'status', part: 0 };
  const [ts] = await existing(state, channel, turn, [mark]);
  if (!ts) return void (await post(state, channel, mark, 1, { text }));
  await state.callSlack('chat.update', () =>
    state.client.chat.update({ channel: channel.channelId, ts, text, metadata: replyMetadata(mark) }),
  );
}

async function showStatus(state: SlackReplyState, slack: SlackChannel, key: string, status: TurnStatus): Promise<void> {
  // The conversation ended: only a session shows that; a status message or assistant status has nothing to say.
  if (status.state === 'closed') return void (await state.sessions.set(slack, status));
  const turn = `${slack.channelId}\u0000${slack.threadTs}\u0000${key}`;
  const terminal = status.state === 'done' || status.state === 'stopped';
  if (state.finished.has(turn) && !terminal) return;
  // An agent app's task cards: every step, never coalesced away as status lines may be.
  if (state.sessions.available() && slack.threadTs !== '')
    await serially(state, `steps\u0000${turn}`, () => state.steps.show(slack, turn, status));
  if (terminal) addNewest(state.finished, turn, state.maxRemembered);
  await state.sendStatus(turn, { channel: slack, text: statusText(status), status }).catch((error: unknown) => {
    if (terminal) state.finished.delete(turn);
    throw error;
  });
}

async function postAnswer(state: SlackReplyState, slack: SlackChannel, key: string, text: string): Promise<void> {
  // The answer clears the assistant status; a refresh after it must not set it again.
  stopRefreshing(state, `${slack.channelId}\u0000${slack.threadTs}\u0000${key}`);
  const parts = answerParts(state, text);
  await serially(state, `answer\u0000${key}`, async () => {
    const marks = parts.map((_, part): ReplyMark => ({ key, role: 'answer', part }));
    // Where answers stream, the model activity may have streamed this one and marked it when it stopped: nothing to post.
    const streamable = canStream(slack);
    const [streamed, ...already] = streamable
      ? await existing(state, slack, key, [{ key, role: 'stream', part: 0 }, ...marks])
      : [undefined, ...(await existing(state, slack, key, marks))];
    if (streamed !== undefined) return;
    const feedback = feedbackBlock(key, state.options.approvalTokenSecret, state.now);
    for (const [index, part] of parts.entries()) {
      if (already[index] !== undefined) continue;
      // Thumbs up and down under the answer's last message, wherever it is posted.
      const blocks =
        feedback && index === parts.length - 1 ? [{ type: 'section', text: { type: 'mrkdwn', text: part } }, feedback] : undefined;
      await post(state, slack, marks[index] as ReplyMark, parts.length, { text: part, ...(blocks ? { blocks } : {}) });
    }
  });
}

async function postApprovalRequest(state: SlackReplyState, slack: SlackChannel, request: ApprovalRequest): Promise<void> {
  const key = `approval:${request.requestId}`;
  await serially(state, key, async () => {
    const mark: ReplyMark = { key, role: 'approval', part: 0 };
    const [ts] = await existing(state, slack, key, [mark]);
    if (ts) return;
    const { now } = state;
    const token = signToken({ requestId: request.requestId, conversationId: request.conversationId }, state.options.approvalTokenSecret, {
      purpose: APPROVAL_TOKEN_PURPOSE,
      expiresInSeconds: approvalTokenLifetime(request.expiresAt, now()),
      now,
    });
    await post(state, slack, mark, 1, approvalBlocks(request, token));
  });
}

async function markApprovalEnded(
  state: SlackReplyState,
  slack: SlackChannel,
  request: ApprovalRequest,
  ended: ApprovalEnded,
): Promise<void> {
  const key = `approval:${request.requestId}`;
  await state.steps.approvalEnded(slack, request, ended);
  await serially(state, key, async () => {
    const mark: ReplyMark = { key, role: 'approval', part: 0 };
    const [ts] = await existing(state, slack, key, [mark]);
    // Never posted (Slack was down for the whole request): nothing shows buttons.
    if (!ts) return;
    // The mark stays, so a late retry of the request finds this message and posts no other.
    await state.callSlack('chat.update', () =>
      state.client.chat.update({ channel: slack.channelId, ts, ...endedApprovalBlocks(request, ended), metadata: replyMetadata(mark) }),
    );
  });
}

async function startSlackThread(state: SlackReplyState, target: ThreadStart, key: string, text: string): Promise<StartedThread> {
  if (target.kind !== 'slack')
    throw ApplicationFailure.nonRetryable(`The Slack reply adapter cannot start a ${target.kind} thread`, 'WrongReplyChannel');
  const parts = answerParts(state, text);
  return serially(state, `thread\u0000${key}`, async () => {
    const team = target.teamId ?? (await teamId(state));
    const top: SlackPlace = { channelId: target.channelId, threadTs: '' };
    const rootMark: ReplyMark = { key, role: 'answer', part: 0 };
    const [found] = await existing(state, top, key, [rootMark]);
    const ts = found ?? (await post(state, top, rootMark, parts.length, { text: parts[0] as string }));
    if (parts.length > 1) {
      // The rest of a long result continues in the new message's thread.
      const thread: SlackPlace = { channelId: target.channelId, threadTs: ts };
      const marks = parts.slice(1).map((_, index): ReplyMark => ({ key, role: 'answer', part: index + 1 }));
      const already = await existing(state, thread, key, marks);
      for (const [index, mark] of marks.entries()) {
        if (already[index] === undefined) await post(state, thread, mark, parts.length, { text: parts[index + 1] as string });
      }
    }
    return { kind: 'slack', teamId: team, channelId: target.channelId, ts };
  });
}

/** The token outlives the request by a minute, so a click just before the deadline still reaches the workflow, which decides. */
function approvalTokenLifetime(expiresAt: string, nowMs: number): number {
  const expires = Date.parse(expiresAt);
  if (!Number.isFinite(expires)) return 24 * 60 * 60;
  return Math.max(60, Math.ceil((expires - nowMs) / 1000) + 60);
}

function slackChannel(channel: ReplyChannel): SlackChannel {
  if (channel.kind !== 'slack')
    throw ApplicationFailure.nonRetryable(`The Slack reply adapter cannot answer on a ${channel.kind} channel`, 'WrongReplyChannel');
  return channel;
}
