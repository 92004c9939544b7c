import * as z from 'zod';
import {
  APPROVAL_ACTION_IDS,
  APPROVAL_TOKEN_PURPOSE,
  approvalTokenClaimsSchema,
  FEEDBACK_ACTION_ID,
  FEEDBACK_TOKEN_PURPOSE,
  feedbackTokenClaimsSchema,
  type InboundEvent,
} from '../../events/inbound-event.ts';
import { verifyToken } from '../../events/signed-token.ts';
import { badRequest, parseJsonBody, requireShape } from './request-body.ts';
import { slackInboundEvent, type SlackPlace } from './slack-inbound-event.ts';

export type SlackInteractionOutcome = { type: 'dropped'; reason: string } | { type: 'event'; event: InboundEvent };

export interface SlackInteractionOptions {
  /** Secret the worker signed the approval buttons with. */
  approvalTokenSecret: string;
  now: () => number;
}

const interactionSchema = z.looseObject({ type: z.string() });
const blockActionsSchema = z.looseObject({
  user: z.looseObject({
    id: z.string().min(1),
    username: z.string().optional(),
    name: z.string().optional(),
    team_id: z.string().optional(),
  }),
  team: z.looseObject({ id: z.string().min(1) }).nullish(),
  channel: z.looseObject({ id: z.string().min(1) }).nullish(),
  container: z.looseObject({ channel_id: z.string().optional() }).optional(),
  message: z.looseObject({ ts: z.string(), thread_ts: z.string().optional() }).optional(),
  actions: z.array(z.looseObject({ action_id: z.string(), value: z.string().optional() })),
  response_url: z.url({ protocol: /^https$/, message: 'expected an https URL' }).optional(),
  trigger_id: z.string().optional(),
});

const DECISIONS = new Map<string, 'approve' | 'deny'>([
  [APPROVAL_ACTION_IDS.approve, 'approve'],
  [APPROVAL_ACTION_IDS.deny, 'deny'],
]);

/**
 * An interactivity request (`payload=<JSON>`): a click on an approve or deny button becomes
 * an approval event for the conversation named inside the button's signed token; every other
 * interaction is acknowledged and dropped.
 */
export function normaliseSlackInteraction(form: Map<string, string>, options: SlackInteractionOptions): SlackInteractionOutcome {
  const payloadText = form.get('payload');
  if (payloadText === undefined) throw badRequest('form field payload is missing');
  const payload = parseJsonBody(payloadText, 'form field payload');
  const interaction = requireShape(interactionSchema, payload, 'payload');
  if (interaction.type !== 'block_actions') return { type: 'dropped', reason: `interaction type ${interaction.type} is not handled` };
  const actions = requireShape(blockActionsSchema, payload, 'payload');
  const feedback = actions.actions.find((candidate) => candidate.action_id === FEEDBACK_ACTION_ID);
  if (feedback) return feedbackEvent(actions, feedback.value, options);
  const action = actions.actions.find((candidate) => DECISIONS.has(candidate.action_id));
  if (!action) return { type: 'dropped', reason: 'block action is not an approval or feedback button' };
  const decision = DECISIONS.get(action.action_id) as 'approve' | 'deny';
  if (!action.value) throw badRequest('approval button carries no token');
  const verified = verifyToken(action.value, options.approvalTokenSecret, { purpose: APPROVAL_TOKEN_PURPOSE, now: options.now });
  if (!verified.ok) throw badRequest(`approval token rejected: ${verified.reason}`);
  const claims = requireShape(approvalTokenClaimsSchema, verified.claims, 'approval token');
  const approver = actions.user.id;
  const place = {
    ...placeOfClick(actions, 'approval'),
    ...(actions.response_url ? { responseUrl: actions.response_url } : {}),
    ...(actions.trigger_id ? { triggerId: actions.trigger_id } : {}),
  };
  return {
    type: 'event',
    event: slackInboundEvent(
      place,
      {
        // One decision per person per request: a double click is stored once.
        id: `slack-approval:${claims.requestId}:${approver}:${decision}`,
        kind: 'approval',
        conversationId: claims.conversationId,
        user: { id: approver, ...nameOf(actions.user) },
        text: decision === 'approve' ? 'approved' : 'denied',
        approval: { requestId: claims.requestId, decision, approver, token: action.value },
      },
      options.now,
    ),
  };
}

/** A thumbs up or down under an answer: the turn and the value come from the button's signed token, never from the payload. */
function feedbackEvent(
  actions: z.infer<typeof blockActionsSchema>,
  token: string | undefined,
  options: SlackInteractionOptions,
): SlackInteractionOutcome {
  if (!token) throw badRequest('feedback button carries no token');
  const verified = verifyToken(token, options.approvalTokenSecret, { purpose: FEEDBACK_TOKEN_PURPOSE, now: options.now });
  if (!verified.ok) throw badRequest(`feedback token rejected: ${verified.reason}`);
  const claims = requireShape(feedbackTokenClaimsSchema, verified.claims, 'feedback token');
  const by = actions.user.id;
  const fields = {
    // A person's click on a turn is one event; changing their mind is another.
    id: `slack-feedback:${claims.conversationId}:${claims.turn}:${by}:${claims.value}`,
    kind: 'feedback' as const,
    conversationId: claims.conversationId,
    user: { id: by, ...nameOf(actions.user) },
    text: claims.value,
    feedback: { turn: claims.turn, value: claims.value, token },
  };
  return { type: 'event', event: slackInboundEvent(placeOfClick(actions, 'feedback'), fields, options.now) };
}

/** The team, channel and message a button was clicked in; a click that names no team or channel is refused. */
function placeOfClick(actions: z.infer<typeof blockActionsSchema>, what: 'approval' | 'feedback'): SlackPlace {
  const teamId = actions.team?.id ?? actions.user.team_id;
  const channelId = actions.channel?.id ?? actions.container?.channel_id;
  if (!teamId || !channelId) throw badRequest(`${what} click carries no team or channel`);
  return {
    teamId,
    channelId,
    ...(actions.message ? { threadTs: actions.message.thread_ts ?? actions.message.ts, ts: actions.message.ts } : {}),
  };
}

function nameOf(user: { username?: string | undefined; name?: string | undefined }): { name?: string } {
  const name = user.username ?? user.name;
  return name ? { name } : {};
}
