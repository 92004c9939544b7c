import * as z from 'zod';
import { isStopText, parseInboundEvent, slackConversationId, type InboundEvent } from '../../core/inbound-event.ts';
import { requireShape } from './request-body.ts';

/** What the Events API endpoint does with one request. */
export type SlackEventOutcome =
  | { type: 'challenge'; challenge: string }
  | { type: 'dropped'; reason: string }
  | { type: 'event'; event: InboundEvent }
  | { type: 'assistant-thread'; thread: AssistantThread; /** The channel the person came from, for the conversation. */ event?: InboundEvent };

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
    context: z.looseObject({ channel_id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional() }).optional(),
  }),
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
export const HANDLED_BOT_EVENTS = ['app_mention', 'assistant_thread_context_changed', 'assistant_thread_started', 'message.im'] as const;

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
    const found: AssistantThread = { teamId: callback.team_id, userId: thread.user_id, channelId: thread.channel_id, threadTs: thread.thread_ts, ...(contextChannelId ? { contextChannelId } : {}) };
    const context = contextChannelId ? contextEvent(found, contextChannelId, callback.event_id, options) : undefined;
    if (event.type === 'assistant_thread_started') return { type: 'assistant-thread', thread: found, ...(context ? { event: context } : {}) };
    return context ? { type: 'event', event: context } : { type: 'dropped', reason: 'context change names no channel' };
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
    event: parseInboundEvent({
      version: 1,
      id: slackMessageEventId(callback.team_id, message.channel, message.ts),
      source: 'slack',
      kind: isStopText(text) ? 'stop' : 'message',
      conversationId: slackConversationId(callback.team_id, message.channel, threadRoot),
      agent: options.defaultAgent,
      receivedAt: new Date(options.now()).toISOString(),
      user: { id: message.user },
      text,
      slack: { teamId: callback.team_id, channelId: message.channel, threadTs: threadRoot, ts: message.ts },
    }),
  };
}

/** The channel a person has open beside the assistant thread, for the thread's conversation. */
function contextEvent(thread: AssistantThread, channelId: string, eventId: string | undefined, options: SlackEventOptions): InboundEvent {
  return parseInboundEvent({
    version: 1,
    // Each change is its own event (back to a channel seen before included); Slack's retries share the envelope id.
    id: `slack-context:${thread.teamId}:${thread.channelId}:${thread.threadTs}:${eventId ?? channelId}`,
    source: 'slack',
    kind: 'context',
    conversationId: slackConversationId(thread.teamId, thread.channelId, thread.threadTs),
    agent: options.defaultAgent,
    receivedAt: new Date(options.now()).toISOString(),
    user: { id: thread.userId },
    text: '',
    slack: { teamId: thread.teamId, channelId: thread.channelId, threadTs: thread.threadTs },
    context: { channelId },
  });
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
