/**
 * The stand-in's text streams: `chat.startStream`, `chat.appendStream` and `chat.stopStream`
 * (docs.slack.dev/reference/methods/chat.appendStream), their `chunks` (text and `task_update`
 * cards), the stream limit, and a person's stop click cutting a thread's open streams.
 */
import type { SlackState, SlackStoredMessage, SlackTaskCard } from './state.ts';
import { checkBlocks, MAX_TEXT_CHARS, parseJsonArgument, parseMetadata, SlackApiError, type SlackMethod } from './wire.ts';

/** `task_update`: details and output of at most 256 characters each. */
const MAX_TASK_TEXT = 256;
const TASK_STATUSES = new Set(['pending', 'in_progress', 'complete', 'error']);

/** What the chunks of one stream call add: text, and task cards by id. */
export interface StreamChunks {
  text: string;
  tasks: Omit<SlackTaskCard, 'updates'>[];
}

/**
 * `chunks` of `chat.startStream`/`appendStream`/`stopStream` (`markdown_text`, `task_update`,
 * `plan_update`, `blocks`; docs.slack.dev/reference/methods/chat.appendStream). A call takes
 * `markdown_text` or `chunks`, not both.
 */
export function parseChunks(args: Record<string, unknown>, parse: (value: unknown) => unknown): StreamChunks | undefined {
  const chunks = parse(args.chunks);
  if (chunks === undefined) return undefined;
  if (typeof args.markdown_text === 'string' && args.markdown_text !== '')
    throw new SlackApiError('invalid_arguments', { detail: 'markdown_text and chunks are exclusive' });
  if (!Array.isArray(chunks) || chunks.length === 0) throw new SlackApiError('invalid_chunks');
  const out: StreamChunks = { text: '', tasks: [] };
  for (const chunk of chunks as Record<string, unknown>[]) {
    switch (chunk?.type) {
      case 'markdown_text':
        if (typeof chunk.text !== 'string') throw new SlackApiError('invalid_chunks');
        out.text += chunk.text;
        break;
      case 'task_update': {
        const { id, title, status, details, output } = chunk;
        if (
          typeof id !== 'string' ||
          id === '' ||
          typeof title !== 'string' ||
          title === '' ||
          typeof status !== 'string' ||
          !TASK_STATUSES.has(status)
        ) {
          throw new SlackApiError('invalid_chunks');
        }
        for (const text of [details, output])
          if (text !== undefined && (typeof text !== 'string' || text.length > MAX_TASK_TEXT)) throw new SlackApiError('invalid_chunks');
        out.tasks.push({
          id,
          title,
          status: status as SlackTaskCard['status'],
          ...(typeof details === 'string' ? { details } : {}),
          ...(typeof output === 'string' ? { output } : {}),
        });
        break;
      }
      case 'plan_update':
      case 'blocks':
        break;
      default:
        throw new SlackApiError('invalid_chunks');
    }
  }
  return out;
}

/** Applies task updates to a message's cards: the same id is one card, its latest update shown. */
export function applyTasks(cards: SlackTaskCard[], updates: Omit<SlackTaskCard, 'updates'>[]): void {
  for (const update of updates) {
    const card = cards.find((candidate) => candidate.id === update.id);
    if (card) Object.assign(card, update, { updates: card.updates + 1 });
    else cards.push({ ...update, updates: 1 });
  }
}

function markdownText(args: Record<string, unknown>, required: boolean): string {
  const text = typeof args.markdown_text === 'string' ? args.markdown_text : '';
  if (required && text === '') throw new SlackApiError('invalid_arguments');
  // Slack: markdown_text up to 12,000 characters a call.
  if (text.length > 12_000) throw new SlackApiError('msg_too_long');
  return text;
}

/** What one stream call adds: `markdown_text`, or `chunks` (text and task cards). */
function streamContent(args: Record<string, unknown>, required: boolean): StreamChunks {
  const chunks = parseChunks(args, parseJsonArgument);
  if (chunks) return chunks;
  return { text: markdownText(args, required), tasks: [] };
}

/** Adds a call's text and task cards to a stream; Slack refuses text that would make the message too long. */
function appendContent(message: SlackStoredMessage, args: Record<string, unknown>, required: boolean): void {
  const { text, tasks } = streamContent(args, required);
  if (message.text.length + text.length > MAX_TEXT_CHARS) throw new SlackApiError('msg_too_long');
  message.text += text;
  withTasks(message, tasks);
}

function withTasks(message: SlackStoredMessage, tasks: Omit<SlackTaskCard, 'updates'>[]): void {
  if (tasks.length === 0) return;
  message.tasks ??= [];
  applyTasks(message.tasks, tasks);
}

/**
 * The stream methods. `setSessionStatus` is `agents.sessions.setStatus`, which
 * `chat.stopStream`'s `session_status` calls as it stops.
 */
export function streamMethods(state: SlackState, setSessionStatus: SlackMethod): Record<string, SlackMethod> {
  function streamedMessage(args: Record<string, unknown>): SlackStoredMessage {
    const channel = state.requireChannel(args);
    const message = state.find(channel, typeof args.ts === 'string' ? args.ts : '');
    if (!message) throw new SlackApiError('message_not_found');
    if (message.user !== state.botUserId) throw new SlackApiError('cant_update_message');
    if (state.streamState(message) !== 'open') throw new SlackApiError('message_not_in_streaming_state');
    return message;
  }

  return {
    'chat.startStream': (args) => {
      const channel = state.requireChannel(args);
      const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : undefined;
      if (!threadTs) throw new SlackApiError('invalid_arguments');
      // Outside a DM Slack needs to know whom the stream is for.
      if (!channel.startsWith('D') && (typeof args.recipient_user_id !== 'string' || typeof args.recipient_team_id !== 'string')) {
        throw new SlackApiError(typeof args.recipient_team_id !== 'string' ? 'missing_recipient_team_id' : 'missing_recipient_user_id');
      }
      if (args.task_display_mode !== undefined && args.task_display_mode !== 'timeline' && args.task_display_mode !== 'plan')
        throw new SlackApiError('invalid_arguments');
      const content = streamContent(args, false);
      const now = Date.now();
      const recipient =
        typeof args.recipient_user_id === 'string' && typeof args.recipient_team_id === 'string'
          ? { user: args.recipient_user_id, team: args.recipient_team_id }
          : undefined;
      const message: SlackStoredMessage = {
        channel,
        ts: state.nextTs(),
        threadTs,
        text: content.text,
        user: state.botUserId,
        botId: state.botId,
        edits: 0,
        updatedAt: now,
        stream: { startedAt: now, stopped: false, appends: 0, ...(recipient ? { recipient } : {}) },
      };
      withTasks(message, content.tasks);
      state.stored.push(message);
      state.replied(channel, threadTs);
      state.changed(message);
      return { channel, ts: message.ts };
    },

    'chat.appendStream': (args) => {
      const message = streamedMessage(args);
      appendContent(message, args, true);
      message.stream!.appends += 1;
      message.updatedAt = Date.now();
      state.changed(message);
      return { channel: message.channel, ts: message.ts };
    },

    'chat.stopStream': (args) => {
      const message = streamedMessage(args);
      appendContent(message, args, false);
      const blocks = parseJsonArgument(args.blocks);
      if (blocks !== undefined) {
        checkBlocks(blocks);
        message.blocks = blocks as unknown[];
      }
      const metadata = parseMetadata(args.metadata);
      if (metadata) message.metadata = metadata;
      // chat.stopStream may move the thread's session on (`session_status`) as it stops.
      if (typeof args.session_status === 'string' && message.threadTs)
        setSessionStatus({ channel_id: message.channel, thread_ts: message.threadTs, status: args.session_status });
      message.stream!.stopped = true;
      message.updatedAt = Date.now();
      state.changed(message);
      return { channel: message.channel, ts: message.ts, message: state.view(message, true) };
    },
  };
}

/**
 * A person clicks the stop button of a thread's session: Slack stops the app's open streams
 * there and answers which (`streaming_message_ts` of `agent_session_stopped`).
 */
export function clickStop(state: SlackState, channel: string, threadTs: string): string[] {
  const cut = state
    .threadOf(channel, threadTs)
    .filter((message) => message.user === state.botUserId && state.streamState(message) === 'open');
  for (const message of cut) {
    message.stream!.stopped = true;
    message.updatedAt = Date.now();
    state.changed(message);
  }
  return cut.map((message) => message.ts);
}
