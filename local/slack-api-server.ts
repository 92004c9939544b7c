import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  applyTasks,
  createAgentSessions,
  createManifestMethods,
  createTierLimiter,
  METHOD_TIERS,
  NON_MARKETPLACE_READS,
  parseChunks,
  SlackApiError,
  TIER_CALLS_PER_MINUTE,
  type AgentSession,
  type SlackMethod,
  type SlackTaskCard,
} from './slack-agent-methods.ts';

export type { AgentSession, SlackTaskCard };

/**
 * A local server that speaks the parts of the Slack Web API the agents use
 * (`chat.postMessage`, `chat.update`, `conversations.replies`, `conversations.history`,
 * `auth.test`, the assistant thread methods, agent sessions, text streaming with task cards,
 * and the manifest check of a new app), so the real
 * `@slack/web-api` client runs offline: point it at `url` as `slackApiUrl`. It keeps the
 * messages it is sent, per channel and thread, and answers errors the way Slack does
 * (HTTP 200 with `ok: false`, or 429 with `Retry-After`).
 */

export interface SlackMessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
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

export interface SlackApiServerOptions {
  /** Bot tokens accepted as `Authorization: Bearer …` (or a `token` argument). @default ['xoxb-local-token'] */
  tokens?: string[];
  /** When set, other channels answer `channel_not_found`. @default any channel */
  channels?: string[];
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 'T0LOCAL' */
  teamId?: string;
  /** @default 'U0LOCALBOT' */
  botUserId?: string;
  /** Messages to start with (what a previous run of `npm start` kept). @default none */
  messages?: SlackStoredMessage[];
  /** Called after every message added or edited: the console shows it, `npm start` keeps it. */
  onChange?: (message: SlackStoredMessage) => void;
  /** Called after every change of an agent session: the console shows it. */
  onSessionChange?: (session: AgentSession) => void;
  /** How long Slack shows an assistant status with no message sent. @default 120000 ms */
  statusTimeoutMs?: number;
  /** How long a stream stays open; later appends answer `message_not_in_streaming_state`. @default 300000 ms */
  streamLimitMs?: number;
  /** Appends one stream takes per second before answering 429 (Slack: tier 4, and about 1/s per stream is the advice). @default 5 */
  appendsPerSecond?: number;
  /**
   * Asked before each call: an answer returned here is sent instead, and the call takes no
   * effect (Slack answering 5xx, or 429 with `Retry-After`, for a while). @default none
   */
  intercept?: (method: string) => { status: number; headers?: Record<string, string> } | undefined;
  /**
   * The app's messaging experience: `assistant` apps (created before agent_view) may not create
   * agent sessions; `npm start` and the agent-view tests run as `agent`. @default 'assistant'
   */
  appView?: 'agent' | 'assistant';
  /** Events the app subscribes to. @default the events of slack/manifest.json */
  subscribedEvents?: string[];
  /** Answer 429 past each method's rate tier (calls a minute, `METHOD_TIERS`). @default false: tests run faster than a minute */
  enforceRateTiers?: boolean;
  /**
   * False: an app outside the Slack Marketplace, whose `conversations.history` and
   * `conversations.replies` take one call a minute and at most 15 messages a page. @default true
   */
  marketplaceApproved?: boolean;
}

export interface SlackApiServer {
  /** Base URL for `new WebClient(token, { slackApiUrl: url })`, ending in `/api/`. */
  url: string;
  botUserId: string;
  /** Every call, in arrival order. */
  calls: SlackApiCall[];
  /** Messages of a thread (root first, then replies by ts), or top-level messages of a channel. */
  messages(channel: string, threadTs?: string): SlackStoredMessage[];
  /** Every message, in the order they were first posted. */
  allMessages(): SlackStoredMessage[];
  /** Adds a message as a person would write it (the root of a thread, say); returns its ts. */
  addUserMessage(input: { channel: string; user: string; text: string; threadTs?: string }): string;
  /** The next `times` calls of `method` answer 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(method: string, retryAfterSeconds: number, times?: number): void;
  /** After `after` calls that pass, the next `times` calls of `method` answer `{ ok: false, error }`. */
  failNext(method: string, error: string, times?: number, after?: number): void;
  /** The next `times` calls of `method` take effect at once but are answered `ms` later (a slow network, a caller that dies waiting). */
  delayAnswers(method: string, ms: number, times?: number): void;
  /** The assistant thread's prompts and statuses, when any was set. */
  assistantThread(channel: string, threadTs: string): SlackAssistantThread | undefined;
  /** The status a person sees now: the last one set, unless a reply or the timeout cleared it. */
  currentStatus(channel: string, threadTs: string): string;
  /** The thread's agent session (`agents.sessions.setStatus`), when one was created. */
  agentSession(channel: string, threadTs: string): AgentSession | undefined;
  /** Every agent session, in the order they were created. */
  agentSessions(): AgentSession[];
  /**
   * A person clicks the stop button of the thread's session: Slack stops the app's open streams
   * there and answers which (`streaming_message_ts` of `agent_session_stopped`).
   */
  clickStop(channel: string, threadTs: string): string[];
  close(): Promise<void>;
}

/** Slack refuses `text` longer than this. */
const MAX_TEXT_CHARS = 40_000;
/** Slack's limits on Block Kit: blocks per message, characters per section text. */
const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT_CHARS = 3000;
const MAX_BUTTON_VALUE_CHARS = 2000;
const MAX_BODY_BYTES = 1024 * 1024;
/** Page size of `conversations.replies` when the caller gives no `limit`. */
const DEFAULT_PAGE_SIZE = 1000;
/** `assistant.threads.setStatus` takes at most this many loading messages. */
const MAX_LOADING_MESSAGES = 10;
const MAX_SUGGESTED_PROMPTS = 4;
/** The events `slack/manifest.json` subscribes to. */
const MANIFEST_EVENTS = ['agent_session_stopped', 'app_context_changed', 'app_home_opened', 'app_mention', 'message.im'];

export async function startSlackApiServer(options: SlackApiServerOptions = {}): Promise<SlackApiServer> {
  const tokens = new Set(options.tokens ?? ['xoxb-local-token']);
  const channels = options.channels ? new Set(options.channels) : undefined;
  const teamId = options.teamId ?? 'T0LOCAL';
  const botUserId = options.botUserId ?? 'U0LOCALBOT';
  const botId = 'B0LOCALBOT';
  const stored: SlackStoredMessage[] = [...(options.messages ?? [])];
  const changed = (message: SlackStoredMessage) => options.onChange?.(message);
  const calls: SlackApiCall[] = [];
  const rateLimits = new Map<string, { retryAfterSeconds: number; times: number }>();
  const failures = new Map<string, { error: string; times: number; after: number }>();
  const delays = new Map<string, { ms: number; times: number }>();
  const threads = new Map<string, SlackAssistantThread & { clearedAt: number }>();
  const statusTimeoutMs = options.statusTimeoutMs ?? 120_000;
  const streamLimitMs = options.streamLimitMs ?? 300_000;
  const appendsPerSecond = options.appendsPerSecond ?? 5;
  /** ts → times of recent appends, for the per-stream rate limit. */
  const appendTimes = new Map<string, number[]>();
  const marketplaceApproved = options.marketplaceApproved ?? true;
  const tiers = createTierLimiter((method) => {
    if (!marketplaceApproved && (NON_MARKETPLACE_READS.methods as readonly string[]).includes(method)) return NON_MARKETPLACE_READS.callsPerMinute;
    const tier = METHOD_TIERS[method];
    return options.enforceRateTiers && tier ? TIER_CALLS_PER_MINUTE[tier] : undefined;
  });
  let lastTs = Math.max(0, ...stored.map((message) => Math.round(Number(message.ts) * 1_000_000)));

  /** Slack ts: seconds and a 6-digit fraction, unique and increasing within the server. */
  function nextTs(): string {
    lastTs = Math.max(lastTs + 1, Date.now() * 1000);
    return `${Math.floor(lastTs / 1_000_000)}.${String(lastTs % 1_000_000).padStart(6, '0')}`;
  }

  function find(channel: string, ts: string): SlackStoredMessage | undefined {
    return stored.find((message) => message.channel === channel && message.ts === ts);
  }

  function assistantThread(channel: string, threadTs: string) {
    const key = `${channel}\u0000${threadTs}`;
    let thread = threads.get(key);
    if (!thread) threads.set(key, (thread = { channel, threadTs, statuses: [], clearedAt: 0 }));
    return thread;
  }

  /** Slack clears an assistant status when the app replies in the thread. */
  function replied(channel: string, threadTs: string | undefined): void {
    const thread = threadTs ? threads.get(`${channel}\u0000${threadTs}`) : undefined;
    if (thread) thread.clearedAt = Date.now();
  }

  /** Assistant threads live in the app's DMs (`D…`); elsewhere these methods are refused. */
  function requireAssistantChannel(args: Record<string, unknown>): { channel: string; threadTs: string | undefined } {
    const channel = requireChannel({ channel: args.channel_id });
    if (!channel.startsWith('D')) throw new SlackApiError('channel_type_not_supported');
    const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : undefined;
    return { channel, threadTs };
  }

  /** A stream past its limit is closed by Slack: its text stays, appends are refused. */
  function streamState(message: SlackStoredMessage): 'open' | 'stopped' | 'none' {
    if (!message.stream) return 'none';
    if (!message.stream.stopped && Date.now() - message.stream.startedAt > streamLimitMs) message.stream.stopped = true;
    return message.stream.stopped ? 'stopped' : 'open';
  }

  function streamedMessage(args: Record<string, unknown>): SlackStoredMessage {
    const channel = requireChannel(args);
    const message = find(channel, typeof args.ts === 'string' ? args.ts : '');
    if (!message) throw new SlackApiError('message_not_found');
    if (message.user !== botUserId) throw new SlackApiError('cant_update_message');
    if (streamState(message) !== 'open') throw new SlackApiError('message_not_in_streaming_state');
    return message;
  }

  /** What one stream call adds: `markdown_text`, or `chunks` (text and task cards). */
  function streamContent(args: Record<string, unknown>, required: boolean): { text: string; tasks: Omit<SlackTaskCard, 'updates'>[] } {
    const chunks = parseChunks(args, parseJsonArgument);
    if (chunks) return chunks;
    return { text: markdownText(args, required), tasks: [] };
  }

  function withTasks(message: SlackStoredMessage, tasks: Omit<SlackTaskCard, 'updates'>[]): void {
    if (tasks.length === 0) return;
    message.tasks ??= [];
    applyTasks(message.tasks, tasks);
  }

  function markdownText(args: Record<string, unknown>, required: boolean): string {
    const text = typeof args.markdown_text === 'string' ? args.markdown_text : '';
    if (required && text === '') throw new SlackApiError('invalid_arguments');
    // Slack: markdown_text up to 12,000 characters a call.
    if (text.length > 12_000) throw new SlackApiError('msg_too_long');
    return text;
  }

  function threadOf(channel: string, threadTs: string): SlackStoredMessage[] {
    return stored
      .filter((message) => message.channel === channel && (message.ts === threadTs || message.threadTs === threadTs))
      .sort((a, b) => (a.ts === threadTs ? -1 : b.ts === threadTs ? 1 : compareTs(a.ts, b.ts)));
  }

  function requireChannel(args: Record<string, unknown>): string {
    const channel = args.channel;
    if (typeof channel !== 'string' || channel === '') throw new SlackApiError('channel_not_found');
    if (channels && !channels.has(channel)) throw new SlackApiError('channel_not_found');
    return channel;
  }

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

  function view(message: SlackStoredMessage, withMetadata: boolean): Record<string, unknown> {
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
  }

  const sessions = createAgentSessions({
    appView: options.appView ?? 'assistant',
    subscribedEvents: new Set(options.subscribedEvents ?? MANIFEST_EVENTS),
    requireChannel,
    threadExists: (channel, threadTs) => find(channel, threadTs) !== undefined,
    ...(options.onSessionChange ? { onChange: options.onSessionChange } : {}),
  });

  /** `conversations.history`/`replies` page size: at most 15 outside the Marketplace. */
  function pageLimit(args: Record<string, unknown>, fallback: number): number {
    const max = marketplaceApproved ? DEFAULT_PAGE_SIZE : NON_MARKETPLACE_READS.maxLimit;
    return Math.max(1, Math.min(Number(args.limit) || Math.min(fallback, max), max));
  }

  const methods: Record<string, SlackMethod> = {
    ...sessions.methods,
    ...createManifestMethods(parseJsonArgument),

    'auth.test': () => ({ url: 'http://localhost/', team: 'Local', user: 'agent', team_id: teamId, user_id: botUserId, bot_id: botId, is_enterprise_install: false }),

    'chat.postMessage': (args) => {
      const channel = requireChannel(args);
      const content = messageContent(args);
      const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : undefined;
      const metadata = parseMetadata(args.metadata);
      const message: SlackStoredMessage = {
        channel,
        ts: nextTs(),
        ...(threadTs ? { threadTs } : {}),
        ...content,
        ...(metadata ? { metadata } : {}),
        user: botUserId,
        botId,
        edits: 0,
        updatedAt: Date.now(),
      };
      stored.push(message);
      replied(channel, threadTs);
      changed(message);
      return { channel, ts: message.ts, message: view(message, true) };
    },

    'assistant.threads.setSuggestedPrompts': (args) => {
      const { channel, threadTs } = requireAssistantChannel(args);
      const prompts = parseJsonArgument(args.prompts) as { title?: unknown; message?: unknown }[] | undefined;
      if (!Array.isArray(prompts) || prompts.length === 0 || prompts.length > MAX_SUGGESTED_PROMPTS) throw new SlackApiError('invalid_arguments');
      if (!prompts.every((prompt) => typeof prompt?.title === 'string' && prompt.title !== '' && typeof prompt.message === 'string' && prompt.message !== '')) {
        throw new SlackApiError('invalid_arguments');
      }
      assistantThread(channel, threadTs ?? '').prompts = prompts.map((prompt) => ({ title: String(prompt.title), message: String(prompt.message) }));
      return {};
    },

    'assistant.threads.setStatus': (args) => {
      const { channel, threadTs } = requireAssistantChannel(args);
      if (!threadTs || typeof args.status !== 'string') throw new SlackApiError('invalid_arguments');
      const loading = parseJsonArgument(args.loading_messages) as unknown[] | undefined;
      if (loading !== undefined && (!Array.isArray(loading) || loading.length > MAX_LOADING_MESSAGES || !loading.every((line) => typeof line === 'string'))) {
        throw new SlackApiError('invalid_arguments');
      }
      assistantThread(channel, threadTs).statuses.push({ status: args.status, ...(loading ? { loadingMessages: loading as string[] } : {}), at: Date.now() });
      return {};
    },

    'chat.startStream': (args) => {
      const channel = requireChannel(args);
      const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : undefined;
      if (!threadTs) throw new SlackApiError('invalid_arguments');
      // Outside a DM Slack needs to know whom the stream is for.
      if (!channel.startsWith('D') && (typeof args.recipient_user_id !== 'string' || typeof args.recipient_team_id !== 'string')) {
        throw new SlackApiError(typeof args.recipient_team_id !== 'string' ? 'missing_recipient_team_id' : 'missing_recipient_user_id');
      }
      if (args.task_display_mode !== undefined && args.task_display_mode !== 'timeline' && args.task_display_mode !== 'plan') throw new SlackApiError('invalid_arguments');
      const content = streamContent(args, false);
      const now = Date.now();
      const recipient = typeof args.recipient_user_id === 'string' && typeof args.recipient_team_id === 'string' ? { user: args.recipient_user_id, team: args.recipient_team_id } : undefined;
      const message: SlackStoredMessage = {
        channel,
        ts: nextTs(),
        threadTs,
        text: content.text,
        user: botUserId,
        botId,
        edits: 0,
        updatedAt: now,
        stream: { startedAt: now, stopped: false, appends: 0, ...(recipient ? { recipient } : {}) },
      };
      withTasks(message, content.tasks);
      stored.push(message);
      replied(channel, threadTs);
      changed(message);
      return { channel, ts: message.ts };
    },

    'chat.appendStream': (args) => {
      const message = streamedMessage(args);
      const { text, tasks } = streamContent(args, true);
      if (message.text.length + text.length > MAX_TEXT_CHARS) throw new SlackApiError('msg_too_long');
      message.text += text;
      withTasks(message, tasks);
      message.stream!.appends += 1;
      message.updatedAt = Date.now();
      changed(message);
      return { channel: message.channel, ts: message.ts };
    },

    'chat.stopStream': (args) => {
      const message = streamedMessage(args);
      const { text, tasks } = streamContent(args, false);
      if (message.text.length + text.length > MAX_TEXT_CHARS) throw new SlackApiError('msg_too_long');
      message.text += text;
      withTasks(message, tasks);
      const blocks = parseJsonArgument(args.blocks);
      if (blocks !== undefined) {
        checkBlocks(blocks);
        message.blocks = blocks as unknown[];
      }
      const metadata = parseMetadata(args.metadata);
      if (metadata) message.metadata = metadata;
      // chat.stopStream may move the thread's session on (`session_status`) as it stops.
      if (typeof args.session_status === 'string' && message.threadTs) sessions.methods['agents.sessions.setStatus']!({ channel_id: message.channel, thread_ts: message.threadTs, status: args.session_status });
      message.stream!.stopped = true;
      message.updatedAt = Date.now();
      changed(message);
      return { channel: message.channel, ts: message.ts, message: view(message, true) };
    },

    'chat.update': (args) => {
      const channel = requireChannel(args);
      const ts = typeof args.ts === 'string' ? args.ts : '';
      const message = find(channel, ts);
      if (!message) throw new SlackApiError('message_not_found');
      if (message.user !== botUserId) throw new SlackApiError('cant_update_message');
      if (streamState(message) === 'open') throw new SlackApiError('message_in_streaming_state');
      const content = messageContent(args);
      message.text = content.text;
      if (content.blocks) message.blocks = content.blocks;
      else delete message.blocks;
      const metadata = parseMetadata(args.metadata);
      if (metadata) message.metadata = metadata;
      message.edits += 1;
      message.updatedAt = Date.now();
      changed(message);
      return { channel, ts, text: message.text, message: view(message, true) };
    },

    'conversations.replies': (args) => {
      const channel = requireChannel(args);
      const ts = typeof args.ts === 'string' ? args.ts : '';
      if (ts === '') throw new SlackApiError('invalid_arguments');
      const thread = threadOf(channel, ts);
      if (thread.length === 0) throw new SlackApiError('thread_not_found');
      const limit = pageLimit(args, DEFAULT_PAGE_SIZE);
      const offset = typeof args.cursor === 'string' && args.cursor !== '' ? Number(Buffer.from(args.cursor, 'base64url').toString('utf8')) : 0;
      if (!Number.isInteger(offset) || offset < 0) throw new SlackApiError('invalid_cursor');
      const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
      const page = thread.slice(offset, offset + limit).map((message) => view(message, withMetadata));
      const more = offset + limit < thread.length;
      return {
        messages: page,
        has_more: more,
        response_metadata: { next_cursor: more ? Buffer.from(String(offset + limit), 'utf8').toString('base64url') : '' },
      };
    },

    'conversations.history': (args) => {
      const channel = requireChannel(args);
      const oldest = typeof args.oldest === 'string' && args.oldest !== '' ? args.oldest : undefined;
      const latest = typeof args.latest === 'string' && args.latest !== '' ? args.latest : undefined;
      // Top-level messages (thread roots included), newest first, as Slack answers.
      const top = stored
        .filter((message) => message.channel === channel && message.threadTs === undefined)
        .filter((message) => (oldest === undefined || compareTs(message.ts, oldest) > 0) && (latest === undefined || compareTs(message.ts, latest) < 0))
        .sort((a, b) => compareTs(b.ts, a.ts));
      const limit = pageLimit(args, 100);
      const offset = typeof args.cursor === 'string' && args.cursor !== '' ? Number(Buffer.from(args.cursor, 'base64url').toString('utf8')) : 0;
      if (!Number.isInteger(offset) || offset < 0) throw new SlackApiError('invalid_cursor');
      const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
      const more = offset + limit < top.length;
      return {
        messages: top.slice(offset, offset + limit).map((message) => view(message, withMetadata)),
        has_more: more,
        response_metadata: { next_cursor: more ? Buffer.from(String(offset + limit), 'utf8').toString('base64url') : '' },
      };
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://slack.local');
    const match = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      response.end(JSON.stringify(body));
    };
    if (!match) return send(404, { ok: false, error: 'unknown_method' });
    const method = match[1] as string;
    const args = { ...Object.fromEntries(url.searchParams), ...(await readArguments(request)) };
    const record = (outcome: string) => calls.push({ method, at: Date.now(), outcome, args: redactToken(args) });

    const intercepted = options.intercept?.(method);
    if (intercepted) {
      record(`http_${intercepted.status}`);
      return send(intercepted.status, { ok: false, error: intercepted.status === 429 ? 'ratelimited' : 'internal_error' }, intercepted.headers);
    }
    const tierWait = tiers.take(method, Date.now());
    if (tierWait > 0) {
      record('ratelimited');
      return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(tierWait) });
    }
    const limited = rateLimits.get(method);
    if (limited && limited.times > 0) {
      limited.times -= 1;
      record('ratelimited');
      return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limited.retryAfterSeconds) });
    }
    if (method === 'chat.appendStream' && typeof args.ts === 'string') {
      const now = Date.now();
      const recent = (appendTimes.get(args.ts) ?? []).filter((at) => now - at < 1000);
      if (recent.length >= appendsPerSecond) {
        record('ratelimited');
        return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' });
      }
      appendTimes.set(args.ts, [...recent, now]);
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    const implementation = methods[method];
    let outcome: { ok: true; body: Record<string, unknown> } | { ok: false; error: string; extra?: Record<string, unknown> };
    if (!implementation) outcome = { ok: false, error: 'unknown_method' };
    else if (!token) outcome = { ok: false, error: 'not_authed' };
    else if (!tokens.has(token)) outcome = { ok: false, error: 'invalid_auth' };
    else {
      const failure = failures.get(method);
      const failing = failure !== undefined && failure.times > 0 && failure.after-- <= 0;
      if (failing) {
        failure.times -= 1;
        outcome = { ok: false, error: failure.error };
      } else {
        try {
          outcome = { ok: true, body: implementation(args) };
        } catch (error) {
          if (!(error instanceof SlackApiError)) throw error;
          outcome = { ok: false, error: error.message, extra: error.extra };
        }
      }
    }
    record(outcome.ok ? 'ok' : outcome.error);
    const delay = delays.get(method);
    if (delay && delay.times > 0) {
      delay.times -= 1;
      await new Promise((resolve) => setTimeout(resolve, delay.ms));
    }
    if (outcome.ok) return send(200, { ok: true, ...outcome.body });
    return send(200, { ok: false, error: outcome.error, ...('extra' in outcome ? outcome.extra : {}) });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(error instanceof BodyError ? 413 : 500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: false, error: error instanceof BodyError ? error.message : 'internal_error' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;

  return {
    url: `http://${address.address}:${address.port}/api/`,
    botUserId,
    calls,
    messages: (channel, threadTs) =>
      threadTs === undefined ? stored.filter((message) => message.channel === channel && message.threadTs === undefined) : threadOf(channel, threadTs),
    allMessages: () => [...stored],
    addUserMessage: ({ channel, user, text, threadTs }) => {
      const ts = nextTs();
      const message: SlackStoredMessage = { channel, ts, ...(threadTs ? { threadTs } : {}), text, user, edits: 0, updatedAt: Date.now() };
      stored.push(message);
      changed(message);
      return ts;
    },
    rateLimit: (method, retryAfterSeconds, times = 1) => void rateLimits.set(method, { retryAfterSeconds, times }),
    failNext: (method, error, times = 1, after = 0) => void failures.set(method, { error, times, after }),
    delayAnswers: (method, ms, times = 1) => void delays.set(method, { ms, times }),
    assistantThread: (channel, threadTs) => {
      const thread = threads.get(`${channel}\u0000${threadTs}`);
      if (!thread) return undefined;
      const { clearedAt: _clearedAt, ...shown } = thread;
      return { ...shown, statuses: [...thread.statuses] };
    },
    currentStatus: (channel, threadTs) => {
      const thread = threads.get(`${channel}\u0000${threadTs}`);
      const last = thread?.statuses.at(-1);
      if (!thread || !last || last.at <= thread.clearedAt || Date.now() - last.at > statusTimeoutMs) return '';
      return last.status;
    },
    agentSession: (channel, threadTs) => sessions.session(channel, threadTs),
    agentSessions: () => sessions.all(),
    clickStop: (channel, threadTs) => {
      const cut = threadOf(channel, threadTs).filter((message) => message.user === botUserId && streamState(message) === 'open');
      for (const message of cut) {
        message.stream!.stopped = true;
        message.updatedAt = Date.now();
        changed(message);
      }
      return cut.map((message) => message.ts);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

class BodyError extends Error {}

/** Form (`@slack/web-api`'s default) or JSON bodies; form values holding objects are JSON text. */
async function readArguments(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyError('request_too_large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  const type = request.headers['content-type'] ?? '';
  if (type.includes('application/json')) {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function parseJsonArgument(value: unknown): unknown {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new SlackApiError('invalid_blocks_format');
  }
}

function parseMetadata(value: unknown): SlackMessageMetadata | undefined {
  const parsed = (() => {
    try {
      return parseJsonArgument(value);
    } catch {
      throw new SlackApiError('invalid_metadata_format');
    }
  })();
  if (parsed === undefined) return undefined;
  const metadata = parsed as Partial<SlackMessageMetadata>;
  if (typeof metadata.event_type !== 'string' || typeof metadata.event_payload !== 'object' || metadata.event_payload === null) {
    throw new SlackApiError('invalid_metadata_schema');
  }
  return { event_type: metadata.event_type, event_payload: metadata.event_payload };
}

/** The Block Kit checks Slack applies that a reply is most likely to trip over. */
function checkBlocks(blocks: unknown): void {
  if (!Array.isArray(blocks) || blocks.length > MAX_BLOCKS) throw new SlackApiError('invalid_blocks');
  for (const block of blocks as { type?: unknown; text?: { text?: unknown }; elements?: { value?: unknown; action_id?: unknown }[] }[]) {
    if (typeof block?.type !== 'string') throw new SlackApiError('invalid_blocks');
    if (block.type === 'section' && typeof block.text?.text === 'string' && block.text.text.length > MAX_SECTION_TEXT_CHARS) {
      throw new SlackApiError('invalid_blocks');
    }
    if (block.type === 'context_actions') checkContextActions(block.elements);
    if (block.type === 'actions') {
      for (const element of block.elements ?? []) {
        if (typeof element.value === 'string' && element.value.length > MAX_BUTTON_VALUE_CHARS) throw new SlackApiError('invalid_blocks');
      }
    }
  }
}

/** `context_actions` (docs.slack.dev/reference/block-kit/blocks/context-actions-block): up to 5 feedback or icon buttons. */
function checkContextActions(elements: unknown): void {
  if (!Array.isArray(elements) || elements.length === 0 || elements.length > 5) throw new SlackApiError('invalid_blocks');
  for (const element of elements as Record<string, unknown>[]) {
    if (element?.type === 'icon_button') continue;
    if (element?.type !== 'feedback_buttons') throw new SlackApiError('invalid_blocks');
    for (const button of [element.positive_button, element.negative_button] as { text?: { type?: unknown; text?: unknown }; value?: unknown }[]) {
      if (button?.text?.type !== 'plain_text' || typeof button.text.text !== 'string' || typeof button.value !== 'string' || button.value.length > MAX_BUTTON_VALUE_CHARS) {
        throw new SlackApiError('invalid_blocks');
      }
    }
  }
}

function compareTs(a: string, b: string): number {
  const [aSeconds = 0, aFraction = 0] = a.split('.').map(Number);
  const [bSeconds = 0, bFraction = 0] = b.split('.').map(Number);
  return aSeconds - bSeconds || aFraction - bFraction;
}

function redactToken(args: Record<string, unknown>): Record<string, unknown> {
  const { token: _token, ...rest } = args;
  return rest;
}
