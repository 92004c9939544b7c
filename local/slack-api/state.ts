/**
 * What the Slack stand-in holds: the messages of every channel and thread, the calls it was
 * sent, and the assistant threads' statuses, with the lookups every method family shares.
 * The method families (`messages.ts`, `streams.ts`, `agent-sessions.ts`, `manifest.ts`) read
 * and change it; `slack-api-server.ts` routes each call to them.
 */
import { compareTs, SlackApiError, type SlackMessageMetadata } from './wire.ts';

/** One task card of a streamed message (`task_update` chunks with the same id update it). */
export interface SlackTaskCard {
  id: string;
  title: string;
  status: 'pending' | 'in_progress' | 'complete' | 'error';
  details?: string;
  output?: string;
  /** How many chunks named this id. */
  updates: number;
}

export interface SlackStoredMessage {
  channel: string;
  ts: string;
  /** Root ts of the thread; absent for a top-level message. */
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  metadata?: SlackMessageMetadata;
  /** `U…` for people, the bot user for the app. */
  user: string;
  botId?: string;
  /** How many times `chat.update` changed it, and when it last did (ms). */
  edits: number;
  updatedAt: number;
  /** A message from `chat.startStream`: open until `chat.stopStream`, the stream limit, or a person's stop click. */
  stream?: { startedAt: number; stopped: boolean; appends: number; recipient?: { user: string; team: string } };
  /** Task cards streamed into it (`task_update` chunks), one per id. */
  tasks?: SlackTaskCard[];
}

/** What `assistant.threads.*` set on one assistant thread. */
export interface SlackAssistantThread {
  channel: string;
  threadTs: string;
  prompts?: { title: string; message: string }[];
  /** Every `setStatus`, in order ('' clears). */
  statuses: { status: string; loadingMessages?: string[]; at: number }[];
}

export interface SlackApiCall {
  method: string;
  /** Milliseconds since the epoch. */
  at: number;
  /** `ok`, an error code such as `invalid_auth`, or `ratelimited`. */
  outcome: string;
  args: Record<string, unknown>;
}

export interface SlackStateOptions {
  teamId: string;
  botUserId: string;
  /** When set, other channels answer `channel_not_found`. */
  channels?: string[];
  messages?: SlackStoredMessage[];
  onChange?: (message: SlackStoredMessage) => void;
  streamLimitMs: number;
  marketplaceApproved: boolean;
}

export type SlackState = ReturnType<typeof createSlackState>;

export function createSlackState(options: SlackStateOptions) {
  const channels = options.channels ? new Set(options.channels) : undefined;
  const stored: SlackStoredMessage[] = [...(options.messages ?? [])];
  const threads = new Map<string, SlackAssistantThread & { clearedAt: number }>();
  let lastTs = Math.max(0, ...stored.map((message) => Math.round(Number(message.ts) * 1_000_000)));

  /** A stream past its limit is closed by Slack: its text stays, appends are refused. */
  function streamState(message: SlackStoredMessage): 'open' | 'stopped' | 'none' {
    if (!message.stream) return 'none';
    if (!message.stream.stopped && Date.now() - message.stream.startedAt > options.streamLimitMs) message.stream.stopped = true;
    return message.stream.stopped ? 'stopped' : 'open';
  }

  return {
    teamId: options.teamId,
    botUserId: options.botUserId,
    botId: 'B0LOCALBOT',
    marketplaceApproved: options.marketplaceApproved,
    stored,
    calls: [] as SlackApiCall[],
    /** Assistant threads by channel and thread ts (`threadKey`). */
    threads,
    streamState,
    changed: (message: SlackStoredMessage) => options.onChange?.(message),

    /** Slack ts: seconds and a 6-digit fraction, unique and increasing within the server. */
    nextTs(): string {
      lastTs = Math.max(lastTs + 1, Date.now() * 1000);
      return `${Math.floor(lastTs / 1_000_000)}.${String(lastTs % 1_000_000).padStart(6, '0')}`;
    },

    find(channel: string, ts: string): SlackStoredMessage | undefined {
      return stored.find((message) => message.channel === channel && message.ts === ts);
    },

    /** A thread's messages: its root first, then replies by ts. */
    threadOf(channel: string, threadTs: string): SlackStoredMessage[] {
      return stored
        .filter((message) => message.channel === channel && (message.ts === threadTs || message.threadTs === threadTs))
        .sort((a, b) => (a.ts === threadTs ? -1 : b.ts === threadTs ? 1 : compareTs(a.ts, b.ts)));
    },

    requireChannel(args: Record<string, unknown>): string {
      const channel = args.channel;
      if (typeof channel !== 'string' || channel === '') throw new SlackApiError('channel_not_found');
      if (channels && !channels.has(channel)) throw new SlackApiError('channel_not_found');
      return channel;
    },

    /** Slack clears an assistant status when the app replies in the thread. */
    replied(channel: string, threadTs: string | undefined): void {
      const thread = threadTs ? threads.get(threadKey(channel, threadTs)) : undefined;
      if (thread) thread.clearedAt = Date.now();
    },

    /** A message as `conversations.*` and `chat.*` answer it. */
    view(message: SlackStoredMessage, withMetadata: boolean): Record<string, unknown> {
      return {
        type: 'message',
        user: message.user,
        ...(message.botId ? { bot_id: message.botId, app_id: 'A0LOCALAPP' } : {}),
        text: message.text,
        ts: message.ts,
        ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
        ...(message.blocks ? { blocks: message.blocks } : {}),
        ...(message.edits > 0 ? { edited: { user: message.user, ts: message.ts } } : {}),
        ...(withMetadata && message.metadata ? { metadata: message.metadata } : {}),
      };
    },
  };
}

export function threadKey(channel: string, threadTs: string): string {
  return `${channel}\u0000${threadTs}`;
}
