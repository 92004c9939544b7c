/**
 * The stand-in's agent surface (Slack, 2026): agent sessions (`agents.sessions.*`), stream
 * chunks (`task_update` and the rest), the manifest check Slack applies to a new app, and the
 * rate tiers of the methods the agents call. Split from `slack-api-server.ts`, which holds the
 * messages and routes each call; what Slack's pages say and leave out is in docs/slack.md.
 */

/** A refusal as Slack answers it: HTTP 200, `ok: false`, the code, and any extra fields. */
export class SlackApiError extends Error {
  readonly extra: Record<string, unknown>;
  constructor(code: string, extra: Record<string, unknown> = {}) {
    super(code);
    this.extra = extra;
  }
}

export type SlackMethod = (args: Record<string, unknown>) => Record<string, unknown>;

/** The four statuses of docs.slack.dev/ai/agent-sessions. */
export const AGENT_SESSION_STATUSES = ['processing', 'active', 'suspended', 'closed'] as const;
export type AgentSessionStatus = (typeof AGENT_SESSION_STATUSES)[number];

/** One thread's agent session as Slack keeps it. */
export interface AgentSession {
  channel: string;
  threadTs: string;
  title?: string;
  /** Every status set, in order. */
  statuses: { status: AgentSessionStatus; at: number }[];
}

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

/** `agents.sessions.setStatus`: a title of at most 200 characters (the SDKs' request docs). */
const MAX_SESSION_TITLE = 200;
/** `task_update`: details and output of at most 256 characters each. */
const MAX_TASK_TEXT = 256;
const TASK_STATUSES = new Set(['pending', 'in_progress', 'complete', 'error']);

export interface AgentSessionOptions {
  /** The app's messaging experience: only apps declared as agents (`agent_view`) may create sessions. */
  appView: 'agent' | 'assistant';
  /** Events the app subscribes to: without `agent_session_stopped`, setStatus warns as Slack does. */
  subscribedEvents: ReadonlySet<string>;
  requireChannel: (args: Record<string, unknown>) => string;
  /** Whether a thread root with this ts exists in the channel. */
  threadExists: (channel: string, threadTs: string) => boolean;
  /** Called after every change of a session (the console shows it). */
  onChange?: (session: AgentSession) => void;
}

/** `agents.sessions.setStatus` and `agents.sessions.rename`, and the sessions they keep. */
export function createAgentSessions(options: AgentSessionOptions) {
  const sessions = new Map<string, AgentSession>();
  const keyOf = (channel: string, threadTs: string) => `${channel}\u0000${threadTs}`;

  function place(args: Record<string, unknown>): { channel: string; threadTs: string } {
    if (options.appView !== 'agent') throw new SlackApiError('access_denied', { detail: 'only apps declared as agents (agent_view) can create sessions' });
    const channel = options.requireChannel({ channel: args.channel_id });
    const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : '';
    // Thread-based sessions (every session of this app) name their thread root.
    if (threadTs === '') throw new SlackApiError('invalid_arguments', { detail: 'thread_ts is required for thread-based sessions' });
    if (!options.threadExists(channel, threadTs)) throw new SlackApiError('thread_not_found');
    return { channel, threadTs };
  }

  function title(value: unknown): string | undefined {
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string' || value.length > MAX_SESSION_TITLE) throw new SlackApiError('invalid_arguments', { detail: `title is text of at most ${MAX_SESSION_TITLE} characters` });
    return value;
  }

  const methods: Record<string, SlackMethod> = {
    'agents.sessions.setStatus': (args) => {
      const { channel, threadTs } = place(args);
      const status = args.status;
      if (typeof status !== 'string' || !(AGENT_SESSION_STATUSES as readonly string[]).includes(status)) {
        throw new SlackApiError('invalid_arguments', { detail: `status is one of ${AGENT_SESSION_STATUSES.join(', ')}` });
      }
      const named = title(args.title);
      let session = sessions.get(keyOf(channel, threadTs));
      // The title counts only when the session is created; rename changes it later.
      if (!session) sessions.set(keyOf(channel, threadTs), (session = { channel, threadTs, ...(named ? { title: named } : {}), statuses: [] }));
      session.statuses.push({ status: status as AgentSessionStatus, at: Date.now() });
      options.onChange?.({ ...session, statuses: [...session.statuses] });
      return {
        status,
        ...(session.title ? { title: session.title } : {}),
        ...(options.subscribedEvents.has('agent_session_stopped') ? {} : { warning: 'missing_agent_session_stopped_event_subscription' }),
      };
    },
    'agents.sessions.rename': (args) => {
      const { channel, threadTs } = place(args);
      const named = title(args.title);
      if (!named) throw new SlackApiError('invalid_arguments', { detail: 'title is required' });
      const session = sessions.get(keyOf(channel, threadTs));
      if (!session) throw new SlackApiError('session_not_found');
      session.title = named;
      options.onChange?.({ ...session, statuses: [...session.statuses] });
      return { title: named };
    },
  };

  return {
    methods,
    session: (channel: string, threadTs: string): AgentSession | undefined => {
      const session = sessions.get(keyOf(channel, threadTs));
      return session && { ...session, statuses: [...session.statuses] };
    },
    /** The status a person sees now, or undefined before any. */
    currentStatus: (channel: string, threadTs: string) => sessions.get(keyOf(channel, threadTs))?.statuses.at(-1)?.status,
    all: () => [...sessions.values()],
  };
}

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
  if (typeof args.markdown_text === 'string' && args.markdown_text !== '') throw new SlackApiError('invalid_arguments', { detail: 'markdown_text and chunks are exclusive' });
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
        if (typeof id !== 'string' || id === '' || typeof title !== 'string' || title === '' || typeof status !== 'string' || !TASK_STATUSES.has(status)) {
          throw new SlackApiError('invalid_chunks');
        }
        for (const text of [details, output]) if (text !== undefined && (typeof text !== 'string' || text.length > MAX_TASK_TEXT)) throw new SlackApiError('invalid_chunks');
        out.tasks.push({ id, title, status: status as SlackTaskCard['status'], ...(typeof details === 'string' ? { details } : {}), ...(typeof output === 'string' ? { output } : {}) });
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

/**
 * `apps.manifest.create` and `apps.manifest.validate`: Slack's checks of a new app's manifest,
 * of which the stand-in keeps the one this project trips over: a new app may use only the agent
 * messaging experience (`agent_view`), never `assistant_view` (docs.slack.dev/ai/migrating-to-agent-messaging).
 */
export function createManifestMethods(parse: (value: unknown) => unknown): Record<string, SlackMethod> {
  let apps = 0;
  function check(args: Record<string, unknown>): Record<string, unknown> {
    const manifest = parse(args.manifest) as { features?: Record<string, unknown>; display_information?: { name?: unknown } } | undefined;
    if (typeof manifest !== 'object' || manifest === null) throw new SlackApiError('invalid_manifest', { errors: [{ message: 'manifest is required', pointer: '/' }] });
    const errors: { message: string; pointer: string }[] = [];
    if (typeof manifest.display_information?.name !== 'string') errors.push({ message: 'display_information.name is required', pointer: '/display_information/name' });
    if (manifest.features && 'assistant_view' in manifest.features) {
      errors.push({ message: 'New apps can only use the agent messaging experience: use agent_view', pointer: '/features/assistant_view' });
    }
    const agentView = manifest.features?.agent_view as { agent_description?: unknown } | undefined;
    if (agentView !== undefined && (typeof agentView.agent_description !== 'string' || agentView.agent_description === '')) {
      errors.push({ message: 'agent_view.agent_description is required', pointer: '/features/agent_view/agent_description' });
    }
    if (errors.length > 0) throw new SlackApiError('invalid_manifest', { errors });
    return manifest;
  }
  return {
    'apps.manifest.validate': (args) => (check(args), {}),
    'apps.manifest.create': (args) => {
      check(args);
      apps += 1;
      return { app_id: `A0LOCAL${apps}`, credentials: {}, oauth_authorize_url: 'http://localhost/oauth' };
    },
  };
}

/**
 * Web API rate tiers (docs.slack.dev/apis/web-api/rate-limits): calls a minute per method and
 * workspace. Tier 1: 1+, Tier 2: 20+, Tier 3: 50+, Tier 4: 100+. `chat.postMessage` is
 * "special" (about one a second per channel) and `chat.appendStream` also has the per-stream
 * limit the server applies; both are left to those.
 */
export const METHOD_TIERS: Record<string, 1 | 2 | 3 | 4> = {
  'agents.sessions.setStatus': 3,
  'agents.sessions.rename': 3,
  'assistant.threads.setStatus': 3,
  'assistant.threads.setSuggestedPrompts': 3,
  'chat.startStream': 2,
  'chat.appendStream': 4,
  'chat.stopStream': 2,
  'chat.update': 3,
  'conversations.history': 3,
  'conversations.replies': 3,
  'auth.test': 4,
  'apps.manifest.create': 1,
  'apps.manifest.validate': 3,
};
export const TIER_CALLS_PER_MINUTE = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;

/**
 * Apps outside the Slack Marketplace, created from 2025-05-29 on: `conversations.history` and
 * `conversations.replies` drop to one call a minute, and `limit` to 15 (Slack's changelog,
 * "Rate limit changes for non-Marketplace apps").
 */
export const NON_MARKETPLACE_READS = { methods: ['conversations.history', 'conversations.replies'], callsPerMinute: 1, maxLimit: 15 } as const;

/** Per-method calls a minute, sliding: `take` answers the seconds to wait, or 0 when the call may go. */
export function createTierLimiter(callsPerMinute: (method: string) => number | undefined) {
  const recent = new Map<string, number[]>();
  return {
    take(method: string, now: number): number {
      const limit = callsPerMinute(method);
      if (limit === undefined) return 0;
      const times = (recent.get(method) ?? []).filter((at) => now - at < 60_000);
      if (times.length >= limit) {
        recent.set(method, times);
        return Math.max(1, Math.ceil((60_000 - (now - (times[0] as number))) / 1000));
      }
      times.push(now);
      recent.set(method, times);
      return 0;
    },
  };
}
