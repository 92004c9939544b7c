/**
 * The stand-in's message methods: `auth.test`, `chat.postMessage`, `chat.update`,
 * `conversations.replies` and `conversations.history`, over the messages `SlackState` keeps.
 */
import { NON_MARKETPLACE_READS } from './rate-tiers.ts';
import type { SlackState, SlackStoredMessage } from './state.ts';
import { checkBlocks, compareTs, MAX_TEXT_CHARS, parseJsonArgument, parseMetadata, SlackApiError, type SlackMethod } from './wire.ts';

/** Page size of `conversations.replies` when the caller gives no `limit`. */
const DEFAULT_PAGE_SIZE = 1000;

/** `text`, `blocks` or `markdown_text` of `chat.postMessage`/`chat.update`, as Slack checks them. */
function messageContent(args: Record<string, unknown>): { text: string; blocks?: unknown[] } {
  const markdown = typeof args.markdown_text === 'string' ? args.markdown_text : '';
  if (markdown !== '' && (args.text !== undefined || args.blocks !== undefined)) throw new SlackApiError('invalid_arguments');
  if (markdown.length > 12_000) throw new SlackApiError('msg_too_long');
  const text = markdown !== '' ? markdown : typeof args.text === 'string' ? args.text : '';
  const blocks = parseJsonArgument(args.blocks);
  if (blocks !== undefined) checkBlocks(blocks);
  if (text === '' && blocks === undefined) throw new SlackApiError('no_text');
  if (text.length > MAX_TEXT_CHARS) throw new SlackApiError('msg_too_long');
  return { text, ...(blocks !== undefined ? { blocks: blocks as unknown[] } : {}) };
}

/** The offset a `cursor` names (base64url of a number), 0 without one. */
function cursorOffset(args: Record<string, unknown>): number {
  const offset = typeof args.cursor === 'string' && args.cursor !== '' ? Number(Buffer.from(args.cursor, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw new SlackApiError('invalid_cursor');
  return offset;
}

/** A page of `messages` from `offset`, with the cursor of the next. */
function page(
  state: SlackState,
  messages: SlackStoredMessage[],
  offset: number,
  limit: number,
  args: Record<string, unknown>,
): Record<string, unknown> {
  const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
  const more = offset + limit < messages.length;
  return {
    messages: messages.slice(offset, offset + limit).map((message) => state.view(message, withMetadata)),
    has_more: more,
    response_metadata: { next_cursor: more ? Buffer.from(String(offset + limit), 'utf8').toString('base64url') : '' },
  };
}

export function messageMethods(state: SlackState): Record<string, SlackMethod> {
  /** `conversations.history`/`replies` page size: at most 15 outside the Marketplace. */
  function pageLimit(args: Record<string, unknown>, fallback: number): number {
    const max = state.marketplaceApproved ? DEFAULT_PAGE_SIZE : NON_MARKETPLACE_READS.maxLimit;
    return Math.max(1, Math.min(Number(args.limit) || Math.min(fallback, max), max));
  }

  return {
    'auth.test': () => ({
      url: 'http://localhost/',
      team: 'Local',
      user: 'agent',
      team_id: state.teamId,
      user_id: state.botUserId,
      bot_id: state.botId,
      is_enterprise_install: false,
    }),

    'chat.postMessage': (args) => {
      const channel = state.requireChannel(args);
      const content = messageContent(args);
      const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : undefined;
      const metadata = parseMetadata(args.metadata);
      const message: SlackStoredMessage = {
        channel,
        ts: state.nextTs(),
        ...(threadTs ? { threadTs } : {}),
        ...content,
        ...(metadata ? { metadata } : {}),
        user: state.botUserId,
        botId: state.botId,
        edits: 0,
        updatedAt: Date.now(),
      };
      state.stored.push(message);
      state.replied(channel, threadTs);
      state.changed(message);
      return { channel, ts: message.ts, message: state.view(message, true) };
    },

    'chat.update': (args) => {
      const channel = state.requireChannel(args);
      const ts = typeof args.ts === 'string' ? args.ts : '';
      const message = state.find(channel, ts);
      if (!message) throw new SlackApiError('message_not_found');
      if (message.user !== state.botUserId) throw new SlackApiError('cant_update_message');
      if (state.streamState(message) === 'open') throw new SlackApiError('message_in_streaming_state');
      const content = messageContent(args);
      message.text = content.text;
      if (content.blocks) message.blocks = content.blocks;
      else delete message.blocks;
      const metadata = parseMetadata(args.metadata);
      if (metadata) message.metadata = metadata;
      message.edits += 1;
      message.updatedAt = Date.now();
      state.changed(message);
      return { channel, ts, text: message.text, message: state.view(message, true) };
    },

    'conversations.replies': (args) => {
      const channel = state.requireChannel(args);
      const ts = typeof args.ts === 'string' ? args.ts : '';
      if (ts === '') throw new SlackApiError('invalid_arguments');
      const thread = state.threadOf(channel, ts);
      if (thread.length === 0) throw new SlackApiError('thread_not_found');
      const limit = pageLimit(args, DEFAULT_PAGE_SIZE);
      return page(state, thread, cursorOffset(args), limit, args);
    },

    'conversations.history': (args) => {
      const channel = state.requireChannel(args);
      const oldest = typeof args.oldest === 'string' && args.oldest !== '' ? args.oldest : undefined;
      const latest = typeof args.latest === 'string' && args.latest !== '' ? args.latest : undefined;
      // Top-level messages (thread roots included), newest first, as Slack answers.
      const top = state.stored
        .filter((message) => message.channel === channel && message.threadTs === undefined)
        .filter(
          (message) =>
            (oldest === undefined || compareTs(message.ts, oldest) > 0) && (latest === undefined || compareTs(message.ts, latest) < 0),
        )
        .sort((a, b) => compareTs(b.ts, a.ts));
      const limit = pageLimit(args, 100);
      return page(state, top, cursorOffset(args), limit, args);
    },
  };
}
