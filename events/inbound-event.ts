import * as z from 'zod';

/**
 * The one shape every inbound message takes on its way from the ingress edge, through the
 * queue, to the dispatcher. A wire contract: add optional fields, never rename or repurpose
 * one; a breaking change bumps `version`. Pure module: zod and string helpers only.
 */

/**
 * Bounds. Ids become Temporal workflow and update ids (at most 1,000 bytes) and, hashed when
 * longer than 128 characters, SQS group and deduplication ids; the edges cut or refuse
 * anything longer with a logged reason, and the dispatcher drops a record that still does not
 * fit rather than retry it into the dead-letter queue.
 */
export const MAX_ID_BYTES = 1000;
/** Longest text an event carries (an email body is cut well before: EMAIL_MAX_BODY_CHARS). */
export const MAX_EVENT_TEXT = 200_000;

const boundedId = z
  .string()
  .min(1)
  .refine((value) => new TextEncoder().encode(value).byteLength <= MAX_ID_BYTES, { message: `longer than ${MAX_ID_BYTES} bytes` });
const slackId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'expected a Slack id' });

export const slackOriginSchema = z.object({
  teamId: slackId,
  channelId: slackId,
  /** Root ts of the thread the reply belongs in. Absent only in events from before slash commands posted a root. */
  threadTs: z.string().min(1).max(32).optional(),
  /** ts of the message itself. */
  ts: z.string().min(1).max(32).optional(),
  /** Slash commands and interactions: where an answer can be posted for 30 minutes. */
  responseUrl: z
    .url({ protocol: /^https$/ })
    .max(2000)
    .optional(),
  /** Slash commands and interactions. */
  triggerId: z.string().min(1).max(256).optional(),
});

export const emailAttachmentSchema = z.object({
  filename: z.string().max(255),
  contentType: z.string().max(255),
  size: z.number().int().nonnegative(),
  /** Where the attachment is stored, once a later step stores it. */
  s3Key: z.string().optional(),
  /** The attachment's bytes in the transcript store (`sha256:…`), when the ingress stored them. */
  ref: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .optional(),
  /** Why the bytes were not kept (too large), when they were not. */
  omitted: z.string().max(200).optional(),
});

export const emailOriginSchema = z.object({
  /** Message-ID without angle brackets. */
  messageId: z.string().min(1).max(998),
  inReplyTo: z.string().max(998).optional(),
  references: z.array(z.string().max(998)).max(50),
  subject: z.string().max(1000),
  from: z.string().min(1).max(254),
  to: z.array(z.string().max(254)).max(100),
  /**
   * The agent's own address as SES received the message (`agent@domain`, from the receipt's
   * recipients, token removed): replies come from it. Absent in events queued before it existed.
   */
  agentAddress: z.string().max(254).optional(),
  /** S3 key of the raw MIME message, as SES stored it. */
  rawS3Key: z.string().max(1024).optional(),
  /** The verified plus-address token that picked the conversation, if one did. */
  replyToken: z.string().max(64).optional(),
  attachments: z.array(emailAttachmentSchema).max(100),
});

export const approvalSchema = z.object({
  requestId: z.string().min(1).max(256),
  decision: z.enum(['approve', 'deny']),
  /** Who clicked or replied: a Slack user id or an email address. */
  approver: z.string().min(1).max(254),
  /** The signed token as received, so the workflow can check it again. */
  token: z.string().min(1).max(4096),
});

export const feedbackSchema = z.object({
  turn: z.number().int().positive(),
  value: z.enum(['positive', 'negative']),
  /** The signed token as received, so the dispatcher can check it again. */
  token: z.string().min(1).max(4096),
});

const viewEntitySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('channel'), channelId: slackId }),
  z.object({ type: z.literal('canvas'), canvasId: slackId }),
  z.object({ type: z.literal('list'), listId: slackId }),
  z.object({ type: z.literal('message'), channelId: slackId, messageTs: z.string().regex(/^\d{1,12}\.\d{1,9}$/) }),
]);

/** Conversation id of what a person has open in Slack beside the agent (`agent_view` apps): one per person, not per thread. */
export function slackViewContextId(teamId: string, userId: string): string {
  return `slack-view:${teamId}:${userId}`;
}

export const inboundEventSchema = z
  .object({
    version: z.literal(1),
    /** Source event id: the dedup key in the queue and the update id in Temporal. */
    id: boundedId,
    source: z.enum(['slack', 'email']),
    kind: z.enum(['message', 'approval', 'stop', 'feedback', 'context']),
    /** Workflow id of the conversation: `slack:{team}:{channel}:{thread root ts}` or `email:{root message id}`. */
    conversationId: boundedId,
    /** Agent the ingress picked; the dispatcher may route further. */
    agent: z.string().min(1).max(64).optional(),
    receivedAt: z.iso.datetime(),
    user: z.object({ id: z.string().min(1).max(254), name: z.string().max(200).optional(), email: z.string().max(254).optional() }),
    text: z.string().max(MAX_EVENT_TEXT),
    slack: slackOriginSchema.optional(),
    email: emailOriginSchema.optional(),
    approval: approvalSchema.optional(),
    feedback: feedbackSchema.optional(),
    /**
     * `context` events: the channel the person has open beside the assistant thread
     * (`assistant_view`), or what they have open while the agent is visible (`agent_view`'s
     * `app_context_changed`: entities, most relevant first).
     */
    context: z
      .object({ channelId: slackId.optional(), entities: z.array(viewEntitySchema).max(10).optional() })
      .refine((context) => context.channelId !== undefined || context.entities !== undefined, {
        message: 'a context names a channel or entities',
      })
      .optional(),
    /** `stop` events from Slack's native stop button: the streams Slack cut off, and a refusal is answered in the thread. */
    nativeStop: z.object({ streamingMessageTs: z.array(z.string().max(32)).max(20) }).optional(),
  })
  .refine((event) => (event.source === 'slack' ? event.slack !== undefined : event.email !== undefined), {
    message: 'an event carries the origin block named by its source',
  })
  .refine((event) => (event.kind === 'approval') === (event.approval !== undefined), {
    message: 'approval events, and only they, carry an approval block',
  })
  .refine((event) => (event.kind === 'feedback') === (event.feedback !== undefined), {
    message: 'feedback events, and only they, carry a feedback block',
  })
  .refine((event) => (event.kind === 'context') === (event.context !== undefined), {
    message: 'context events, and only they, carry a context block',
  });

export type InboundEvent = z.infer<typeof inboundEventSchema>;
export type SlackOrigin = z.infer<typeof slackOriginSchema>;
export type EmailOrigin = z.infer<typeof emailOriginSchema>;
export type EmailAttachment = z.infer<typeof emailAttachmentSchema>;
export type Approval = z.infer<typeof approvalSchema>;

/** Action ids of the approve and deny buttons the worker posts; the ingress recognises these. */
export const APPROVAL_ACTION_IDS = { approve: 'approval:approve', deny: 'approval:deny' } as const;

/** Action id of the feedback buttons under an answer; each button's value is a signed token. */
export const FEEDBACK_ACTION_ID = 'answer:feedback';
/** `purpose` of the signed token on feedback buttons: never valid as an approval, nor the reverse. */
export const FEEDBACK_TOKEN_PURPOSE = 'feedback';
export const feedbackTokenClaimsSchema = z.object({
  conversationId: z.string().min(1),
  turn: z.number().int().positive(),
  value: z.enum(['positive', 'negative']),
});
export type FeedbackTokenClaims = z.infer<typeof feedbackTokenClaimsSchema>;

/** `purpose` of the signed token on approval buttons (see events/signed-token.ts). */
export const APPROVAL_TOKEN_PURPOSE = 'approval';
export const approvalTokenClaimsSchema = z.object({ requestId: z.string().min(1), conversationId: z.string().min(1) });
export type ApprovalTokenClaims = z.infer<typeof approvalTokenClaimsSchema>;

/**
 * A purpose no signed token is issued for any more: email reply plus-addresses carry the short
 * tokens of events/email-thread.ts. Kept so a token minted under it stays refused as an approval.
 */
export const EMAIL_REPLY_TOKEN_PURPOSE = 'email-reply';

/** Conversation of a Slack thread; `threadRootTs` is `event.thread_ts ?? event.ts`. */
export function slackConversationId(teamId: string, channelId: string, threadRootTs: string): string {
  return `slack:${teamId}:${channelId}:${threadRootTs}`;
}

/** Conversation of an email thread, keyed by the root message id (angle brackets dropped). */
export function emailConversationId(rootMessageId: string): string {
  return `email:${bareMessageId(rootMessageId)}`;
}

/** `<abc@host>` → `abc@host`. */
export function bareMessageId(messageId: string): string {
  return messageId.trim().replace(/^<+/, '').replace(/>+$/, '');
}

/** A message whose whole text is "stop" asks the conversation to stop its current run. */
export function isStopText(text: string): boolean {
  return /^\s*stop[\s.!]*$/i.test(text);
}

/** Throws a readable error naming every field that does not fit the contract. */
export function parseInboundEvent(value: unknown): InboundEvent {
  const parsed = inboundEventSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new TypeError(`Not an InboundEvent: ${z.prettifyError(parsed.error)}`);
}
