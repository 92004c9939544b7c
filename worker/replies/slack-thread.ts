import type { WebClient } from '@slack/web-api';
import { slackErrorCode, type SlackCaller } from './slack-client.ts';

/**
 * Every message the agent posts carries Slack message metadata naming the turn (`key`) and
 * its place in it, so a retried activity can find what an earlier attempt already posted by
 * reading the thread: no store of its own, and it survives a worker crash.
 */
export const REPLY_EVENT_TYPE = 'durable_agents_reply';

/** `stream`: an answer streamed by the model activity; `note`: text streamed before tool calls. */
export type ReplyRole = 'status' | 'answer' | 'approval' | 'stream' | 'note';

export interface ReplyMark {
  key: string;
  role: ReplyRole;
  /** 0-based part of a split answer; 0 otherwise. */
  part: number;
}

export function replyMetadata(mark: ReplyMark, parts = 1) {
  return { event_type: REPLY_EVENT_TYPE, event_payload: { key: mark.key, role: mark.role, part: mark.part, parts } };
}

export function markId(channelId: string, threadTs: string, mark: ReplyMark): string {
  return `${channelId}\u0000${threadTs}\u0000${mark.key}\u0000${mark.role}\u0000${mark.part}`;
}

/** Pages of a thread read when looking for earlier replies, and messages per page: the bound on one lookup. */
const MAX_THREAD_PAGES = 10;
const THREAD_PAGE_SIZE = 200;

interface ThreadMessage {
  ts?: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/** Who this app posts as, from `auth.test`. */
export interface BotIdentity {
  userId?: string;
  botId?: string;
}

/**
 * `auth.test` once per process, remembered; a failed call is not remembered, so the next
 * lookup tries again.
 */
export function createBotIdentity(client: WebClient, callSlack: SlackCaller): () => Promise<BotIdentity> {
  let identity: Promise<BotIdentity> | undefined;
  return () => {
    identity ??= callSlack('auth.test', () => client.auth.test()).then(
      (result) => {
        const found = {
          ...(result.user_id ? { userId: result.user_id } : {}),
          ...(result.bot_id ? { botId: result.bot_id as string } : {}),
        };
        if (!found.userId && !found.botId) throw new Error('Slack auth.test named neither a user nor a bot');
        return found;
      },
      (error: unknown) => {
        identity = undefined;
        throw error;
      },
    );
    return identity;
  };
}

/**
 * Metadata is anyone's to write: a person's app, or another bot in the channel, can post a
 * message carrying our event type and key. Only a message posted by this app counts as ours.
 */
export function isOwnMessage(message: ThreadMessage, identity: BotIdentity): boolean {
  return (
    (identity.botId !== undefined && message.bot_id === identity.botId) ||
    (identity.userId !== undefined && message.user === identity.userId)
  );
}

/** The ts of every reply of this app in the thread marked with `key`, by `markId`. */
export async function findMarkedReplies(
  client: WebClient,
  callSlack: SlackCaller,
  where: { channelId: string; threadTs: string },
  key: string,
  identity: BotIdentity,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_THREAD_PAGES; page++) {
    let result;
    try {
      result = await callSlack('conversations.replies', () =>
        client.conversations.replies({
          channel: where.channelId,
          ts: where.threadTs,
          include_all_metadata: true,
          limit: THREAD_PAGE_SIZE,
          ...(cursor ? { cursor } : {}),
        }),
      );
    } catch (error) {
      // The root may not be visible to the bot (or not exist yet in a stand-in): nothing posted.
      if (slackErrorCode(error) === 'thread_not_found') return found;
      throw error;
    }
    for (const message of (result.messages ?? []) as ThreadMessage[]) {
      const payload = message.metadata?.event_type === REPLY_EVENT_TYPE ? message.metadata.event_payload : undefined;
      if (!payload || payload.key !== key || !message.ts || !isOwnMessage(message, identity)) continue;
      const role = payload.role as ReplyRole;
      found.set(markId(where.channelId, where.threadTs, { key, role, part: Number(payload.part ?? 0) }), message.ts);
    }
    cursor = result.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  return found;
}

/** Pages of a channel's history read when looking for an earlier top-level post. */
const MAX_HISTORY_PAGES = 5;

/**
 * The ts of every top-level message in the channel marked with `key`, by `markId` (thread
 * ts ''), newest pages first back to `oldest` (a Slack ts): what an earlier attempt of an
 * ambient delivery, or an approval request before a thread exists, already posted.
 */
export async function findMarkedPosts(
  client: WebClient,
  callSlack: SlackCaller,
  channelId: string,
  key: string,
  identity: BotIdentity,
  oldest?: string,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
    const result = await callSlack('conversations.history', () =>
      client.conversations.history({
        channel: channelId,
        include_all_metadata: true,
        limit: THREAD_PAGE_SIZE,
        ...(oldest ? { oldest } : {}),
        ...(cursor ? { cursor } : {}),
      }),
    );
    for (const message of (result.messages ?? []) as ThreadMessage[]) {
      const payload = message.metadata?.event_type === REPLY_EVENT_TYPE ? message.metadata.event_payload : undefined;
      if (!payload || payload.key !== key || !message.ts || !isOwnMessage(message, identity)) continue;
      found.set(markId(channelId, '', { key, role: payload.role as ReplyRole, part: Number(payload.part ?? 0) }), message.ts);
    }
    cursor = result.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  return found;
}
