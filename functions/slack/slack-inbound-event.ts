import { parseInboundEvent, slackConversationId, type InboundEvent } from '../../events/inbound-event.ts';

/** Where in Slack an event happened; `threadTs` is the root of its thread. */
export type SlackPlace = NonNullable<InboundEvent['slack']>;

/** What differs from one Slack event to the next; the rest is filled in. */
export type SlackEventFields = Omit<InboundEvent, 'version' | 'source' | 'receivedAt' | 'conversationId' | 'slack'> & {
  conversationId?: string;
};

/**
 * An InboundEvent from Slack, checked: the version, the source and the time it arrived filled
 * in, and, unless `fields` names another conversation (an approval's or feedback's token
 * does), the conversation is the thread `place` is in.
 */
export function slackInboundEvent(place: SlackPlace, fields: SlackEventFields, now: () => number): InboundEvent {
  const conversationId =
    fields.conversationId ??
    (place.threadTs === undefined ? undefined : slackConversationId(place.teamId, place.channelId, place.threadTs));
  return parseInboundEvent({
    version: 1,
    source: 'slack',
    receivedAt: new Date(now()).toISOString(),
    ...fields,
    conversationId,
    slack: place,
  });
}
