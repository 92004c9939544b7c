import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assistantThreadMethods, createAgentSessions, type AgentSession } from './slack-api/agent-sessions.ts';
import { createManifestMethods, MANIFEST_EVENTS } from './slack-api/manifest.ts';
import { messageMethods } from './slack-api/messages.ts';
import {
  createStreamAppendLimiter,
  createTierLimiter,
  METHOD_TIERS,
  NON_MARKETPLACE_READS,
  TIER_CALLS_PER_MINUTE,
} from './slack-api/rate-tiers.ts';
import {
  createSlackState,
  threadKey,
  type SlackApiCall,
  type SlackState,
  type SlackAssistantThread,
  type SlackStoredMessage,
  type SlackTaskCard,
} from './slack-api/state.ts';
import { clickStop, streamMethods } from './slack-api/streams.ts';
import {
  BodyError,
  parseJsonArgument,
  readArguments,
  redactToken,
  SlackApiError,
  type SlackMessageMetadata,
  type SlackMethod,
} from './slack-api/wire.ts';

export type { AgentSession, SlackApiCall, SlackAssistantThread, SlackMessageMetadata, SlackStoredMessage, SlackTaskCard };

/**
 * A local server that speaks the parts of the Slack Web API the agents use
 * (`chat.postMessage`, `chat.update`, `conversations.replies`, `conversations.history`,
 * `auth.test`, the assistant thread methods, agent sessions, text streaming with task cards,
 * and the manifest check of a new app), so the real
 * `@slack/web-api` client runs offline: point it at `url` as `slackApiUrl`. It keeps the
 * messages it is sent, per channel and thread, and answers errors the way Slack does
 * (HTTP 200 with `ok: false`, or 429 with `Retry-After`).
 *
 * This file routes each call (faults a test asked for, rate limits, the token) to its method
 * family in `slack-api/`: `messages.ts`, `streams.ts`, `agent-sessions.ts`, `manifest.ts`,
 * over the state `slack-api/state.ts` holds; `rate-tiers.ts` has the limits, `wire.ts` the
 * argument parsing and Block Kit checks.
 */

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

/** Faults a test asked for (`rateLimit`, `failNext`, `delayAnswers`), taken one call at a time. */
interface Faults {
  rateLimits: Map<string, { retryAfterSeconds: number; times: number }>;
  failures: Map<string, { error: string; times: number; after: number }>;
  delays: Map<string, { ms: number; times: number }>;
}

/** What the server holds: the workspace's state, its limits and faults, and the methods it speaks. */
interface SlackApiContext {
  options: SlackApiServerOptions;
  tokens: Set<string>;
  state: SlackState;
  faults: Faults;
  appends: ReturnType<typeof createStreamAppendLimiter>;
  tiers: ReturnType<typeof createTierLimiter>;
  sessions: ReturnType<typeof createAgentSessions>;
  methods: Record<string, SlackMethod>;
}

type Outcome = { ok: true; body: Record<string, unknown> } | { ok: false; error: string; extra?: Record<string, unknown> };
/** An answer sent before the method runs: an intercepted call or a rate limit. */
type EarlyAnswer = { status: number; body: Record<string, unknown>; headers?: Record<string, string>; outcome: string };

export async function startSlackApiServer(options: SlackApiServerOptions = {}): Promise<SlackApiServer> {
  const context = createContext(options);
  const server = createServer((request, response) => {
    handle(context, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(error instanceof BodyError ? 413 : 500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: false, error: error instanceof BodyError ? error.message : 'internal_error' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  return serverApi(context, server);
}

function createContext(options: SlackApiServerOptions): SlackApiContext {
  const state = createSlackState({
    teamId: options.teamId ?? 'T0LOCAL',
    botUserId: options.botUserId ?? 'U0LOCALBOT',
    ...(options.channels ? { channels: options.channels } : {}),
    ...(options.messages ? { messages: options.messages } : {}),
    ...(options.onChange ? { onChange: options.onChange } : {}),
    streamLimitMs: options.streamLimitMs ?? 300_000,
    marketplaceApproved: options.marketplaceApproved ?? true,
  });
  const tiers = createTierLimiter((method) => {
    if (!state.marketplaceApproved && (NON_MARKETPLACE_READS.methods as readonly string[]).includes(method))
      return NON_MARKETPLACE_READS.callsPerMinute;
    const tier = METHOD_TIERS[method];
    return options.enforceRateTiers && tier ? TIER_CALLS_PER_MINUTE[tier] : undefined;
  });
  const sessions = createAgentSessions({
    appView: options.appView ?? 'assistant',
    subscribedEvents: new Set(options.subscribedEvents ?? MANIFEST_EVENTS),
    requireChannel: state.requireChannel,
    threadExists: (channel, threadTs) => state.find(channel, threadTs) !== undefined,
    ...(options.onSessionChange ? { onChange: options.onSessionChange } : {}),
  });
  const methods: Record<string, SlackMethod> = {
    ...sessions.methods,
    ...createManifestMethods(parseJsonArgument),
    ...messageMethods(state),
    ...assistantThreadMethods(state),
    ...streamMethods(state, sessions.methods['agents.sessions.setStatus']!),
  };
  return {
    options,
    tokens: new Set(options.tokens ?? ['xoxb-local-token']),
    state,
    faults: { rateLimits: new Map(), failures: new Map(), delays: new Map() },
    appends: createStreamAppendLimiter(options.appendsPerSecond ?? 5),
    tiers,
    sessions,
    methods,
  };
}

/** One call: faults and limits first, then the token, then the method; answered as Slack answers. */
async function handle(context: SlackApiContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://slack.local');
  const match = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname);
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(JSON.stringify(body));
  };
  if (!match) return send(404, { ok: false, error: 'unknown_method' });
  const method = match[1] as string;
  const args = { ...Object.fromEntries(url.searchParams), ...(await readArguments(request)) };
  const record = (outcome: string) => context.state.calls.push({ method, at: Date.now(), outcome, args: redactToken(args) });

  const early = answeredEarly(context, method, args);
  if (early) {
    record(early.outcome);
    return send(early.status, early.body, early.headers);
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
  const outcome = callMethod(context, method, args, token);
  record(outcome.ok ? 'ok' : outcome.error);
  const delay = context.faults.delays.get(method);
  if (delay && delay.times > 0) {
    delay.times -= 1;
    await new Promise((resolve) => setTimeout(resolve, delay.ms));
  }
  if (outcome.ok) return send(200, { ok: true, ...outcome.body });
  return send(200, { ok: false, error: outcome.error, ...('extra' in outcome ? outcome.extra : {}) });
}

/** A test's interception, a rate tier, a 429 a test asked for, or a stream appended to too fast: answered before the method runs. */
function answeredEarly(context: SlackApiContext, method: string, args: Record<string, unknown>): EarlyAnswer | undefined {
  const ratelimited = (retryAfter: number | string): EarlyAnswer => ({
    status: 429,
    body: { ok: false, error: 'ratelimited' },
    headers: { 'retry-after': String(retryAfter) },
    outcome: 'ratelimited',
  });
  const intercepted = context.options.intercept?.(method);
  if (intercepted) {
    const body = { ok: false, error: intercepted.status === 429 ? 'ratelimited' : 'internal_error' };
    return {
      status: intercepted.status,
      body,
      ...(intercepted.headers ? { headers: intercepted.headers } : {}),
      outcome: `http_${intercepted.status}`,
    };
  }
  const tierWait = context.tiers.take(method, Date.now());
  if (tierWait > 0) return ratelimited(tierWait);
  const limited = context.faults.rateLimits.get(method);
  if (limited && limited.times > 0) {
    limited.times -= 1;
    return ratelimited(limited.retryAfterSeconds);
  }
  if (method === 'chat.appendStream' && typeof args.ts === 'string' && !context.appends.take(args.ts, Date.now())) return ratelimited(1);
  return undefined;
}

/** The method's answer for this token, or the failure a test asked for. */
function callMethod(context: SlackApiContext, method: string, args: Record<string, unknown>, token: string | undefined): Outcome {
  const implementation = context.methods[method];
  if (!implementation) return { ok: false, error: 'unknown_method' };
  if (!token) return { ok: false, error: 'not_authed' };
  if (!context.tokens.has(token)) return { ok: false, error: 'invalid_auth' };
  const failure = context.faults.failures.get(method);
  const failing = failure !== undefined && failure.times > 0 && failure.after-- <= 0;
  if (failing) {
    failure.times -= 1;
    return { ok: false, error: failure.error };
  }
  try {
    return { ok: true, body: implementation(args) };
  } catch (error) {
    if (!(error instanceof SlackApiError)) throw error;
    return { ok: false, error: error.message, extra: error.extra };
  }
}

/** What tests and the console see of the server: its URL, its messages, and the faults they may ask for. */
function serverApi(context: SlackApiContext, server: Server): SlackApiServer {
  const { state, faults, sessions } = context;
  const address = server.address() as AddressInfo;
  const statusTimeoutMs = context.options.statusTimeoutMs ?? 120_000;
  return {
    url: `http://${address.address}:${address.port}/api/`,
    botUserId: state.botUserId,
    calls: state.calls,
    messages: (channel, threadTs) =>
      threadTs === undefined
        ? state.stored.filter((message) => message.channel === channel && message.threadTs === undefined)
        : state.threadOf(channel, threadTs),
    allMessages: () => [...state.stored],
    addUserMessage: ({ channel, user, text, threadTs }) => {
      const ts = state.nextTs();
      const message: SlackStoredMessage = { channel, ts, ...(threadTs ? { threadTs } : {}), text, user, edits: 0, updatedAt: Date.now() };
      state.stored.push(message);
      state.changed(message);
      return ts;
    },
    rateLimit: (method, retryAfterSeconds, times = 1) => void faults.rateLimits.set(method, { retryAfterSeconds, times }),
    failNext: (method, error, times = 1, after = 0) => void faults.failures.set(method, { error, times, after }),
    delayAnswers: (method, ms, times = 1) => void faults.delays.set(method, { ms, times }),
    assistantThread: (channel, threadTs) => {
      const thread = state.threads.get(threadKey(channel, threadTs));
      if (!thread) return undefined;
      const { clearedAt: _clearedAt, ...shown } = thread;
      return { ...shown, statuses: [...thread.statuses] };
    },
    currentStatus: (channel, threadTs) => {
      const thread = state.threads.get(threadKey(channel, threadTs));
      const last = thread?.statuses.at(-1);
      if (!thread || !last || last.at <= thread.clearedAt || Date.now() - last.at > statusTimeoutMs) return '';
      return last.status;
    },
    agentSession: (channel, threadTs) => sessions.session(channel, threadTs),
    agentSessions: () => sessions.all(),
    clickStop: (channel, threadTs) => clickStop(state, channel, threadTs),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
