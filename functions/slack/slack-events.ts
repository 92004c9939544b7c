import * as z from 'zod';
import { isStopText, slackViewContextId, type InboundEvent } from '../../events/inbound-event.ts';
import { MAX_VIEW_ENTITIES, type ViewEntity } from '../../core/conversation.ts';
import { requireShape } from './request-body.ts';
import { slackInboundEvent } from './slack-inbound-event.ts';

/** What the Events API endpoint does with one request. */
export type SlackEventOutcome =
  | { type: 'challenge'; challenge: string }
  | { type: 'dropped'; reason: string }
  | { type: 'event'; event: InboundEvent }
  | {
      type: 'assistant-thread';
      thread: AssistantThread;
      /** The channel the person came from, for the conversation. */ event?: InboundEvent;
    }
  | { type: 'agent-home'; home: AgentHome };

/** A person opened their DM with the agent (`app_home_opened` with `tab: messages`, `agent_view` apps). */
export interface AgentHome {
  teamId: string;
  userId: string;
  /** The DM channel. */
  channelId: string;
}

/** A person opened the agent's assistant thread (`assistant_thread_started`). */
export interface AssistantThread {
  teamId: string;
  userId: string;
  /** The DM channel the assistant thread lives in, and its root. */
  channelId: string;
  threadTs: string;
  /** The channel the person was looking at when they opened it, when Slack says. */
  contextChannelId?: string;
}

export interface SlackEventOptions {
  /** Agent named in every event. */
  defaultAgent: string;
  /** The app's bot user id, when configured; `authorizations` in each envelope add to it. */
  botUserId?: string;
  now: () => number;
}

const envelopeSchema = z.looseObject({ type: z.string() });
const challengeSchema = z.looseObject({ challenge: z.string().min(1) });
const callbackSchema = z.looseObject({
  event_id: z.string().max(128).optional(),
  team_id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'expected a Slack id' }),
  authorizations: z.array(z.looseObject({ user_id: z.string().optional(), is_bot: z.boolean().optional() })).optional(),
  event: z.looseObject({ type: z.string(), channel_type: z.string().optional(), subtype: z.string().optional() }),
});
const assistantThreadSchema = z.looseObject({
  assistant_thread: z.looseObject({
    user_id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    channel_id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    thread_ts: z.string().regex(/^\d{1,12}\.\d{1,9}$/),
    context: z
      .looseObject({
        channel_id: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,64}$/)
          .optional(),
      })
      .optional(),
  }),
});
const homeOpenedSchema = z.looseObject({
  user: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  channel: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  tab: z.string().optional(),
});
const entitySchema = z.looseObject({ type: z.string(), value: z.unknown() });
const contextChangedSchema = z.looseObject({
  user: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  context: z.looseObject({ entities: z.array(entitySchema).max(100).optional() }).default({}),
});
const sessionStoppedSchema = z.looseObject({
  user: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  channel: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  thread_ts: z.string().regex(/^\d{1,12}\.\d{1,9}$/),
  event_ts: z.string().max(32).optional(),
  streaming_message_ts: z.array(z.string().max(32)).max(20).default([]),
});
const SLACK_TS = z.string().regex(/^\d{1,12}\.\d{1,9}$/, { message: 'expected a Slack ts such as 1712345678.000100' });
const slackId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'expected a Slack id' });
const messageSchema = z.looseObject({
  user: slackId,
  channel: slackId,
  ts: SLACK_TS,
  thread_ts: SLACK_TS.optional(),
  text: z.string().default(''),
});

/**
 * The bot events (by their subscription names) this endpoint acts on; the app manifest
 * (`slack/manifest.json`) must subscribe to each, and a test holds the two together.
 */
export const HANDLED_BOT_EVENTS = ['agent_session_stopped', 'app_context_changed', 'app_home_opened', 'app_mention', 'message.im'] as const;
/** Events of apps still on `assistant_view`: handled, though the manifest for new apps no longer subscribes to them. */
export const LEGACY_BOT_EVENTS = ['assistant_thread_context_changed', 'assistant_thread_started'] as const;

/** Characters of a message's text kept. */
export const MAX_MESSAGE_TEXT = 40_000;

/** Subtypes that are still a person writing; every other subtype is an edit, a deletion, a join… */
const PERSON_SUBTYPES = new Set(['file_share', 'thread_broadcast']);

/**
 * Decides what one Events API envelope means: a challenge to echo, a message for an agent,
 * or something to acknowledge and drop (bots, edits, deletions, unsubscribed types).
 */
export function normaliseSlackEvent(body: unknown, options: SlackEventOptions): SlackEventOutcome {
  const envelope = requireShape(envelopeSchema, body, 'envelope');
  if (envelope.type === 'url_verification') {
    return { type: 'challenge', challenge: requireShape(challengeSchema, body, 'url_verification').challenge };
  }
  if (envelope.type !== 'event_callback') return { type: 'dropped', reason: `envelope type ${envelope.type} is not handled` };
  const callback = requireShape(callbackSchema, body, 'envelope');
  const event = callback.event;
  if (event.type === 'assistant_thread_started' || event.type === 'assistant_thread_context_changed') {
    const { assistant_thread: thread } = requireShape(assistantThreadSchema, event, 'event');
    const contextChannelId = thread.context?.channel_id;
    const found: AssistantThread = {
      teamId: callback.team_id,
      userId: thread.user_id,
      channelId: thread.channel_id,
      threadTs: thread.thread_ts,
      ...(contextChannelId ? { contextChannelId } : {}),
    };
    const context = contextChannelId ? contextEvent(found, contextChannelId, callback.event_id, options) : undefined;
    if (event.type === 'assistant_thread_started')
      return { type: 'assistant-thread', thread: found, ...(context ? { event: context } : {}) };
    return context ? { type: 'event', event: context } : { type: 'dropped', reason: 'context change names no channel' };
  }
  if (event.type === 'app_home_opened') {
    const home = requireShape(homeOpenedSchema, event, 'event');
    if (home.tab !== 'messages') return { type: 'dropped', reason: `app home opened on tab ${home.tab ?? 'unknown'}` };
    return { type: 'agent-home', home: { teamId: callback.team_id, userId: home.user, channelId: home.channel } };
  }
  if (event.type === 'app_context_changed') return viewContextEvent(callback, options);
  if (event.type === 'agent_session_stopped') {
    const stopped = requireShape(sessionStoppedSchema, event, 'event');
    return {
      type: 'event',
      event: slackInboundEvent(
        { teamId: callback.team_id, channelId: stopped.channel, threadTs: stopped.thread_ts },
        {
          // One click is one event: Slack's retries share the event_ts.
          id: `slack-stop:${callback.team_id}:${stopped.channel}:${stopped.thread_ts}:${stopped.event_ts ?? callback.event_id ?? stopped.user}`,
          ...byPerson('stop', stopped.user, 'stop', options),
          nativeStop: { streamingMessageTs: stopped.streaming_message_ts },
        },
        options.now,
      ),
    };
  }
  const direct = event.type === 'message' && event.channel_type === 'im';
  if (event.type !== 'app_mention' && !direct) {
    const where = event.type === 'message' ? ` in ${event.channel_type ?? 'an unknown channel type'}` : '';
    return { type: 'dropped', reason: `event type ${event.type}${where} is not subscribed` };
  }
  const botUserIds = new Set([
    ...(options.botUserId ? [options.botUserId] : []),
    ...(callback.authorizations ?? []).filter((entry) => entry.is_bot && entry.user_id).map((entry) => entry.user_id as string),
  ]);
  if (Boolean(event.bot_id) || event.subtype === 'bot_message' || botUserIds.has(String(event.user))) {
    return { type: 'dropped', reason: 'message from a bot' };
  }
  if (event.subtype !== undefined && !PERSON_SUBTYPES.has(event.subtype)) {
    return { type: 'dropped', reason: `message subtype ${event.subtype} is not a new message` };
  }
  const message = requireShape(messageSchema, event, 'event');
  // Slack caps a message at 40,000 characters; a longer text did not come from a person typing.
  const text = stripLeadingMentions(message.text.slice(0, MAX_MESSAGE_TEXT), botUserIds);
  const threadRoot = message.thread_ts ?? message.ts;
  return {
    type: 'event',
    event: slackInboundEvent(
      { teamId: callback.team_id, channelId: message.channel, threadTs: threadRoot, ts: message.ts },
      {
        id: slackMessageEventId(callback.team_id, message.channel, message.ts),
        ...byPerson(isStopText(text) ? 'stop' : 'message', message.user, text, options),
      },
      options.now,
    ),
  };
}

/**
 * What a person has open while the agent is visible (`app_context_changed`, `agent_view` apps).
 * Slack's example payload names no channel, thread or user; the Node SDK's type names `user`:
 * the viewer is `event.user`, else the envelope's one person authorization. The context is
 * kept per person (`slackViewContextId`) and reaches their next turn, whichever thread it is in.
 */
function viewContextEvent(callback: z.infer<typeof callbackSchema>, options: SlackEventOptions): SlackEventOutcome {
  const changed = requireShape(contextChangedSchema, callback.event, 'event');
  const people = (callback.authorizations ?? []).filter((entry) => entry.is_bot === false && entry.user_id);
  const viewer = changed.user ?? (people.length === 1 ? people[0]?.user_id : undefined);
  if (!viewer) return { type: 'dropped', reason: 'context change names no person' };
  const entities = (changed.context.entities ?? []).flatMap(viewEntity).slice(0, MAX_VIEW_ENTITIES);
  return {
    type: 'event',
    event: slackInboundEvent(
      // No channel of its own: the person's id stands in, and nothing is ever posted there.
      { teamId: callback.team_id, channelId: viewer },
      {
        id: `slack-view:${callback.team_id}:${viewer}:${callback.event_id ?? options.now()}`,
        conversationId: slackViewContextId(callback.team_id, viewer),
        ...byPerson('context', viewer, '', options),
        context: { entities },
      },
      options.now,
    ),
  };
}

/** What a person's event says besides where and which: the default agent is asked. */
function byPerson(kind: InboundEvent['kind'], userId: string, text: string, options: SlackEventOptions) {
  return { kind, agent: options.defaultAgent, user: { id: userId }, text };
}

const SLACK_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** An entity of Slack's (`slack#/types/channel_id`, …) as this app keeps it; unknown types are left out. */
function viewEntity(entity: { type: string; value: unknown }): ViewEntity[] {
  const value = entity.value;
  const id = typeof value === 'string' && SLACK_ID.test(value) ? value : undefined;
  switch (entity.type) {
    case 'slack#/types/channel_id':
      return id ? [{ type: 'channel', channelId: id }] : [];
    case 'slack#/types/canvas_id':
      return id ? [{ type: 'canvas', canvasId: id }] : [];
    case 'slack#/types/list_id':
      return id ? [{ type: 'list', listId: id }] : [];
    case 'slack#/types/message_context': {
      const message = value as { channel_id?: unknown; message_ts?: unknown } | null;
      const channelId = typeof message?.channel_id === 'string' && SLACK_ID.test(message.channel_id) ? message.channel_id : undefined;
      const messageTs =
        typeof message?.message_ts === 'string' && /^\d{1,12}\.\d{1,9}$/.test(message.message_ts) ? message.message_ts : undefined;
      return channelId && messageTs ? [{ type: 'message', channelId, messageTs }] : [];
    }
    default:
      return [];
  }
}

/** The channel a person has open beside the assistant thread, for the thread's conversation. */
function contextEvent(thread: AssistantThread, channelId: string, eventId: string | undefined, options: SlackEventOptions): InboundEvent {
  return slackInboundEvent(
    { teamId: thread.teamId, channelId: thread.channelId, threadTs: thread.threadTs },
    {
      // Each change is its own event (back to a channel seen before included); Slack's retries share the envelope id.
      id: `slack-context:${thread.teamId}:${thread.channelId}:${thread.threadTs}:${eventId ?? channelId}`,
      ...byPerson('context', thread.userId, '', options),
      context: { channelId },
    },
    options.now,
  );
}

/**
 * Derived from the message, not the envelope's `event_id`: an `app_mention` and its
 * `message.im` twin have different event ids but are one message, so they share this id.
 */
export function slackMessageEventId(teamId: string, channelId: string, ts: string): string {
  return `slack-message:${teamId}:${channelId}:${ts}`;
}

/** `<@U0BOT> summarise this` → `summarise this`, for the bot's own mentions only. */
function stripLeadingMentions(text: string, botUserIds: Set<string>): string {
  let rest = text.trimStart();
  for (;;) {
    const match = /^<@([A-Z0-9]+)(?:\|[^>]*)?>\s*/.exec(rest);
    if (!match || !botUserIds.has(match[1] as string)) return rest.trimEnd();
    rest = rest.slice(match[0].length);
  }
}
