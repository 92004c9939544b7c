import { ApplicationFailure } from '@temporalio/common';
import type { WebClient } from '@slack/web-api';
import type { ReplyChannel } from '../../core/conversation.ts';
import { APPROVAL_TOKEN_PURPOSE } from '../../events/inbound-event.ts';
import { signToken } from '../../events/signed-token.ts';
import { markdownToMrkdwn, splitMessage } from './markdown.ts';
import type { ApprovalEnded, ApprovalRequest, ReplyAdapter, StartedThread, ThreadStart, TurnStatus } from './reply-channel.ts';
import { createSlackCaller, type SlackCallerOptions } from './slack-client.ts';
import { assistantStatus, isAssistantThread } from './slack-assistant-status.ts';
import type { RecordFiles } from '../../store/record-files.ts';
import type { PostedReplies } from '../../store/posted-replies.ts';
import { createTaskSteps } from './slack-task-steps.ts';
import { createAgentSessions } from './slack-session.ts';
import { canStream } from './slack-stream.ts';
import { approvalBlocks, endedApprovalBlocks, feedbackBlock, statusText } from './slack-messages.ts';
import { createBotIdentity, findMarkedPosts, findMarkedReplies, markId, replyMetadata, type ReplyMark } from './slack-thread.ts';
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

/**
 * Replies in a Slack thread: one status message per turn, edited as the turn moves on
 * (throttled and coalesced); the answer as mrkdwn, split into several messages when long;
 * approval requests as buttons. Each message is marked with its turn key in Slack message
 * metadata, and a retried call first looks for the mark, so nothing is posted twice.
 * `startThread` posts a new top-level message (an ambient run's result; a long one continues
 * in its thread), found again the same way in the channel's recent history.
 */
export function createSlackReplyAdapter(options: SlackReplyAdapterOptions): ReplyAdapter {
  const { client } = options;
  const now = options.now ?? Date.now;
  const maxMessageChars = options.maxMessageChars ?? 3000;
  const maxRemembered = options.maxRememberedReplies ?? 10_000;
  const callSlack = createSlackCaller({ now, ...options.rateLimits });
  const botIdentity = createBotIdentity(client, callSlack);
  const maxAnswerMessages = options.maxAnswerMessages ?? 20;
  const sessions = createAgentSessions(client, callSlack, options.agentSessions ?? true);
  const steps = createTaskSteps({ client, callSlack, ...(options.stepRecords ? { records: options.stepRecords } : {}), now });
  /** markId → ts of replies this process posted or found. */
  const posted = new Map<string, string>();
  /** Turns whose status reached done or stopped: a late retry of an older status must not undo it. */
  const finished = new Set<string>();
  const locks = new Map<string, Promise<unknown>>();

  function remember(id: string, ts: string): void {
    setNewest(posted, id, ts, maxRemembered);
  }

  /** One call at a time per key in this process, so two attempts never both post. */
  async function serially<Result>(key: string, work: () => Promise<Result>): Promise<Result> {
    const previous = locks.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    locks.set(key, current);
    try {
      return await current;
    } finally {
      if (locks.get(key) === current) locks.delete(key);
    }
  }

  /**
   * ts of each mark already in the thread (or the channel): from memory, else from the posted
   * records, else (no records, or an attempt that died mid-post) by reading the thread once.
   */
  async function existing(channel: SlackPlace, key: string, marks: ReplyMark[]): Promise<(string | undefined)[]> {
    const ids = marks.map((mark) => markId(channel.channelId, channel.threadTs, mark));
    if (ids.every((id) => posted.has(id))) return ids.map((id) => posted.get(id));
    if (options.posted) {
      const recorded = await options.posted.lookup(ids);
      if (!recorded.includes('pending')) {
        for (const [index, ts] of recorded.entries()) if (ts !== undefined) remember(ids[index] as string, ts);
        return recorded as (string | undefined)[];
      }
    }
    const identity = await botIdentity();
    const found =
      channel.threadTs === '' ? await findMarkedPosts(client, callSlack, channel.channelId, key, identity) : await findMarkedReplies(client, callSlack, channel, key, identity);
    for (const [id, ts] of found) remember(id, ts);
    return ids.map((id) => found.get(id));
  }

  async function post(channel: SlackPlace, mark: ReplyMark, parts: number, content: { text: string; blocks?: unknown[] }): Promise<string> {
    const id = markId(channel.channelId, channel.threadTs, mark);
    await options.posted?.claim(id);
    const result = await callSlack('chat.postMessage', () =>
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
    remember(id, result.ts);
    await options.posted?.record(id, result.ts);
    return result.ts;
  }

  let workspace: Promise<string> | undefined;
  /** The bot's own team id, asked once: a trigger may leave its workspace out. */
  function teamId(): Promise<string> {
    workspace ??= callSlack('auth.test', () => client.auth.test()).then((result) => {
      if (!result.team_id) throw new Error('Slack auth.test answered without a team_id');
      return result.team_id;
    });
    return workspace.catch((error: unknown) => {
      workspace = undefined;
      throw error;
    });
  }

  /** Answer text as Slack messages: mrkdwn, split at paragraph boundaries. */
  /** The answer as mrkdwn messages: no mentions unless allowed, at most `maxAnswerMessages`. */
  function answerParts(text: string): string[] {
    const converted = markdownToMrkdwn(text, { allowMentions: options.allowMentions === true });
    const parts = converted === '' ? ['_(The agent gave no answer.)_'] : splitMessage(converted, maxMessageChars);
    if (parts.length <= maxAnswerMessages) return parts;
    const cut = parts.slice(maxAnswerMessages - 1).reduce((sum, part) => sum + part.length, 0);
    return [...parts.slice(0, maxAnswerMessages - 1), `_(The answer continues for ${cut} more characters, not posted: an answer takes at most ${maxAnswerMessages} messages.)_`];
  }

  /** Turns whose assistant status is set again before Slack's two minutes run out. */
  const refreshers = new Map<string, ReturnType<typeof setInterval>>();
  const refreshMs = options.assistantStatusRefreshMs ?? 90_000;
  /** Threads where Slack refused an assistant status: they get a status message instead. */
  const noAssistantStatus = new Set<string>();

  function stopRefreshing(turn: string): void {
    clearInterval(refreshers.get(turn));
    refreshers.delete(turn);
  }

  /** `assistant.threads.setStatus`, and again every `refreshMs` while the turn works; '' clears it. */
  async function setAssistantStatus(turn: string, channel: SlackChannel, status: TurnStatus): Promise<void> {
    const shown = assistantStatus(status);
    const call = () =>
      callSlack('assistant.threads.setStatus', () =>
        client.assistant.threads.setStatus({
          channel_id: channel.channelId,
          thread_ts: channel.threadTs,
          status: shown.status,
          ...(shown.loadingMessages.length ? { loading_messages: shown.loadingMessages } : {}),
        }),
      );
    stopRefreshing(turn);
    await call();
    if (shown.status === '') return;
    const timer = setInterval(() => {
      call().catch(() => stopRefreshing(turn));
    }, refreshMs);
    timer.unref();
    refreshers.set(turn, timer);
  }

  const sendStatus = createCoalescingThrottle<{ channel: SlackChannel; text: string; status: TurnStatus }>({
    intervalMs: options.statusIntervalMs ?? 1000,
    now,
    send: (key, { channel, text, status }) =>
      serially(`status\u0000${key}`, async () => {
        // Sessions show every state, the stop button included.
        if (await sessions.set(channel, status)) return;
        const place = `${channel.channelId}\u0000${channel.threadTs}`;
        if (isAssistantThread(channel) && !noAssistantStatus.has(place)) {
          try {
            return await setAssistantStatus(key, channel, status);
          } catch (error) {
            // Not an assistant thread after all (a plain DM without the assistant view): the status message it is.
            if (!(error instanceof ApplicationFailure) || error.type !== 'SlackRefused') throw error;
            noAssistantStatus.add(place);
          }
        }
        const mark: ReplyMark = { key, role: 'status', part: 0 };
        const [ts] = await existing(channel, key, [mark]);
        if (!ts) return void (await post(channel, mark, 1, { text }));
        await callSlack('chat.update', () => client.chat.update({ channel: channel.channelId, ts, text, metadata: replyMetadata(mark) }));
      }),
  });

  return {
    async status(channel, key, status: TurnStatus) {
      const slack = slackChannel(channel);
      // The conversation ended: only a session shows that; a status message or assistant status has nothing to say.
      if (status.state === 'closed') return void (await sessions.set(slack, status));
      const turn = `${slack.channelId}\u0000${slack.threadTs}\u0000${key}`;
      const terminal = status.state === 'done' || status.state === 'stopped';
      if (finished.has(turn) && !terminal) return;
      // An agent app's task cards: every step, never coalesced away as status lines may be.
      if (sessions.available() && slack.threadTs !== '') await serially(`steps\u0000${turn}`, () => steps.show(slack, turn, status));
      if (terminal) addNewest(finished, turn, maxRemembered);
      await sendStatus(turn, { channel: slack, text: statusText(status), status }).catch((error: unknown) => {
        if (terminal) finished.delete(turn);
        throw error;
      });
    },

    async answer(channel, key, text) {
      const slack = slackChannel(channel);
      // The answer clears the assistant status; a refresh after it must not set it again.
      stopRefreshing(`${slack.channelId}\u0000${slack.threadTs}\u0000${key}`);
      const parts = answerParts(text);
      await serially(`answer\u0000${key}`, async () => {
        const marks = parts.map((_, part): ReplyMark => ({ key, role: 'answer', part }));
        // Where answers stream, the model activity may have streamed this one and marked it when it stopped: nothing to post.
        const streamable = canStream(slack);
        const [streamed, ...already] = streamable ? await existing(slack, key, [{ key, role: 'stream', part: 0 }, ...marks]) : [undefined, ...(await existing(slack, key, marks))];
        if (streamed !== undefined) return;
        const feedback = feedbackBlock(key, options.approvalTokenSecret, now);
        for (const [index, part] of parts.entries()) {
          if (already[index] !== undefined) continue;
          // Thumbs up and down under the answer's last message, wherever it is posted.
          const blocks = feedback && index === parts.length - 1 ? [{ type: 'section', text: { type: 'mrkdwn', text: part } }, feedback] : undefined;
          await post(slack, marks[index] as ReplyMark, parts.length, { text: part, ...(blocks ? { blocks } : {}) });
        }
      });
    },

    async requestApproval(channel, request: ApprovalRequest) {
      const slack = slackChannel(channel);
      const key = `approval:${request.requestId}`;
      await serially(key, async () => {
        const mark: ReplyMark = { key, role: 'approval', part: 0 };
        const [ts] = await existing(slack, key, [mark]);
        if (ts) return;
        const token = signToken({ requestId: request.requestId, conversationId: request.conversationId }, options.approvalTokenSecret, {
          purpose: APPROVAL_TOKEN_PURPOSE,
          expiresInSeconds: approvalTokenLifetime(request.expiresAt, now()),
          now,
        });
        await post(slack, mark, 1, approvalBlocks(request, token));
      });
    },

    async approvalEnded(channel, request: ApprovalRequest, ended: ApprovalEnded) {
      const slack = slackChannel(channel);
      const key = `approval:${request.requestId}`;
      await steps.approvalEnded(slack, request, ended);
      await serially(key, async () => {
        const mark: ReplyMark = { key, role: 'approval', part: 0 };
        const [ts] = await existing(slack, key, [mark]);
        // Never posted (Slack was down for the whole request): nothing shows buttons.
        if (!ts) return;
        // The mark stays, so a late retry of the request finds this message and posts no other.
        await callSlack('chat.update', () => client.chat.update({ channel: slack.channelId, ts, ...endedApprovalBlocks(request, ended), metadata: replyMetadata(mark) }));
      });
    },

    async startThread(target: ThreadStart, key, text): Promise<StartedThread> {
      if (target.kind !== 'slack') throw ApplicationFailure.nonRetryable(`The Slack reply adapter cannot start a ${target.kind} thread`, 'WrongReplyChannel');
      const parts = answerParts(text);
      return serially(`thread\u0000${key}`, async () => {
        const team = target.teamId ?? (await teamId());
        const top: SlackPlace = { channelId: target.channelId, threadTs: '' };
        const rootMark: ReplyMark = { key, role: 'answer', part: 0 };
        const [found] = await existing(top, key, [rootMark]);
        const ts = found ?? (await post(top, rootMark, parts.length, { text: parts[0] as string }));
        if (parts.length > 1) {
          // The rest of a long result continues in the new message's thread.
          const thread: SlackPlace = { channelId: target.channelId, threadTs: ts };
          const marks = parts.slice(1).map((_, index): ReplyMark => ({ key, role: 'answer', part: index + 1 }));
          const already = await existing(thread, key, marks);
          for (const [index, mark] of marks.entries()) {
            if (already[index] === undefined) await post(thread, mark, parts.length, { text: parts[index + 1] as string });
          }
        }
        return { kind: 'slack', teamId: team, channelId: target.channelId, ts };
      });
    },
  };
}

/** The token outlives the request by a minute, so a click just before the deadline still reaches the workflow, which decides. */
function approvalTokenLifetime(expiresAt: string, nowMs: number): number {
  const expires = Date.parse(expiresAt);
  if (!Number.isFinite(expires)) return 24 * 60 * 60;
  return Math.max(60, Math.ceil((expires - nowMs) / 1000) + 60);
}

function slackChannel(channel: ReplyChannel): SlackChannel {
  if (channel.kind !== 'slack') throw ApplicationFailure.nonRetryable(`The Slack reply adapter cannot answer on a ${channel.kind} channel`, 'WrongReplyChannel');
  return channel;
}
