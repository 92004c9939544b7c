/**
 * The stand-in's per-thread agent surface: agent sessions (`agents.sessions.setStatus` and
 * `agents.sessions.rename`, docs.slack.dev/ai/agent-sessions) and, for apps still on
 * `assistant_view`, the assistant thread methods (`assistant.threads.setStatus` and
 * `setSuggestedPrompts`). What Slack's pages say and leave out is in docs/slack.md.
 */
import { threadKey, type SlackState } from './state.ts';
import { parseJsonArgument, SlackApiError, type SlackMethod } from './wire.ts';

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

/** `agents.sessions.setStatus`: a title of at most 200 characters (the SDKs' request docs). */
const MAX_SESSION_TITLE = 200;

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
    if (options.appView !== 'agent')
      throw new SlackApiError('access_denied', { detail: 'only apps declared as agents (agent_view) can create sessions' });
    const channel = options.requireChannel({ channel: args.channel_id });
    const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : '';
    // Thread-based sessions (every session of this app) name their thread root.
    if (threadTs === '') throw new SlackApiError('invalid_arguments', { detail: 'thread_ts is required for thread-based sessions' });
    if (!options.threadExists(channel, threadTs)) throw new SlackApiError('thread_not_found');
    return { channel, threadTs };
  }

  function title(value: unknown): string | undefined {
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string' || value.length > MAX_SESSION_TITLE)
      throw new SlackApiError('invalid_arguments', { detail: `title is text of at most ${MAX_SESSION_TITLE} characters` });
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
      if (!session)
        sessions.set(keyOf(channel, threadTs), (session = { channel, threadTs, ...(named ? { title: named } : {}), statuses: [] }));
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

/** `assistant.threads.setStatus` takes at most this many loading messages. */
const MAX_LOADING_MESSAGES = 10;
const MAX_SUGGESTED_PROMPTS = 4;

/** `assistant.threads.*`, on the assistant threads `SlackState` keeps. */
export function assistantThreadMethods(state: SlackState): Record<string, SlackMethod> {
  function assistantThread(channel: string, threadTs: string) {
    const key = threadKey(channel, threadTs);
    let thread = state.threads.get(key);
    if (!thread) state.threads.set(key, (thread = { channel, threadTs, statuses: [], clearedAt: 0 }));
    return thread;
  }

  /** Assistant threads live in the app's DMs (`D…`); elsewhere these methods are refused. */
  function requireAssistantChannel(args: Record<string, unknown>): { channel: string; threadTs: string | undefined } {
    const channel = state.requireChannel({ channel: args.channel_id });
    if (!channel.startsWith('D')) throw new SlackApiError('channel_type_not_supported');
    const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : undefined;
    return { channel, threadTs };
  }

  return {
    'assistant.threads.setSuggestedPrompts': (args) => {
      const { channel, threadTs } = requireAssistantChannel(args);
      const prompts = parseJsonArgument(args.prompts) as { title?: unknown; message?: unknown }[] | undefined;
      if (!Array.isArray(prompts) || prompts.length === 0 || prompts.length > MAX_SUGGESTED_PROMPTS)
        throw new SlackApiError('invalid_arguments');
      if (
        !prompts.every(
          (prompt) =>
            typeof prompt?.title === 'string' && prompt.title !== '' && typeof prompt.message === 'string' && prompt.message !== '',
        )
      ) {
        throw new SlackApiError('invalid_arguments');
      }
      assistantThread(channel, threadTs ?? '').prompts = prompts.map((prompt) => ({
        title: String(prompt.title),
        message: String(prompt.message),
      }));
      return {};
    },

    'assistant.threads.setStatus': (args) => {
      const { channel, threadTs } = requireAssistantChannel(args);
      if (!threadTs || typeof args.status !== 'string') throw new SlackApiError('invalid_arguments');
      const loading = parseJsonArgument(args.loading_messages) as unknown[] | undefined;
      if (
        loading !== undefined &&
        (!Array.isArray(loading) || loading.length > MAX_LOADING_MESSAGES || !loading.every((line) => typeof line === 'string'))
      ) {
        throw new SlackApiError('invalid_arguments');
      }
      assistantThread(channel, threadTs).statuses.push({
        status: args.status,
        ...(loading ? { loadingMessages: loading as string[] } : {}),
        at: Date.now(),
      });
      return {};
    },
  };
}
