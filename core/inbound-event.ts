import * as z from 'zod';

/**
 * The one shape every inbound message takes on its way from the ingress edge, through the
 * queue, to the dispatcher. A wire contract: add optional fields, never rename or repurpose
 * one; a breaking change bumps `version`. Pure module: zod and string helpers only.
 */

export const slackOriginSchema = z.object({
  teamId: z.string().min(1),
  channelId: z.string().min(1),
  /** Root ts of the thread the reply belongs in. Absent for slash commands, which have no message yet. */
  threadTs: z.string().min(1).optional(),
  /** ts of the message itself. Absent for slash commands. */
  ts: z.string().min(1).optional(),
  /** Slash commands and interactions: where an answer can be posted for 30 minutes. */
  responseUrl: z.url({ protocol: /^https$/ }).optional(),
  /** Slash commands and interactions. */
  triggerId: z.string().min(1).optional(),
});

export const emailAttachmentSchema = z.object({
  filename: z.string(),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  /** Where the attachment is stored, once a later step stores it. */
  s3Key: z.string().optional(),
  /** The attachment's bytes in the transcript store (`sha256:…`), when the ingress stored them. */
  ref: z.string().regex(/^sha256:[0-9a-f]{64}$/).optional(),
});

export const emailOriginSchema = z.object({
  /** Message-ID without angle brackets. */
  messageId: z.string().min(1),
  inReplyTo: z.string().optional(),
  references: z.array(z.string()),
  subject: z.string(),
  from: z.string().min(1),
  to: z.array(z.string()),
  /** S3 key of the raw MIME message, as SES stored it. */
  rawS3Key: z.string().optional(),
  /** The verified plus-address token that picked the conversation, if one did. */
  replyToken: z.string().optional(),
  attachments: z.array(emailAttachmentSchema),
});

export const approvalSchema = z.object({
  requestId: z.string().min(1),
  decision: z.enum(['approve', 'deny']),
  /** Who clicked or replied: a Slack user id or an email address. */
  approver: z.string().min(1),
  /** The signed token as received, so the workflow can check it again. */
  token: z.string().min(1),
});

export const inboundEventSchema = z
  .object({
    version: z.literal(1),
    /** Source event id: the dedup key in the queue and the update id in Temporal. */
    id: z.string().min(1),
    source: z.enum(['slack', 'email']),
    kind: z.enum(['message', 'approval', 'stop']),
    /** Workflow id of the conversation: `slack:{team}:{channel}:{thread root ts}` or `email:{root message id}`. */
    conversationId: z.string().min(1),
    /** Agent the ingress picked; the dispatcher may route further. */
    agent: z.string().min(1).optional(),
    receivedAt: z.iso.datetime(),
    user: z.object({ id: z.string().min(1), name: z.string().optional(), email: z.string().optional() }),
    text: z.string(),
    slack: slackOriginSchema.optional(),
    email: emailOriginSchema.optional(),
    approval: approvalSchema.optional(),
  })
  .refine((event) => (event.source === 'slack' ? event.slack !== undefined : event.email !== undefined), {
    message: 'an event carries the origin block named by its source',
  })
  .refine((event) => (event.kind === 'approval') === (event.approval !== undefined), {
    message: 'approval events, and only they, carry an approval block',
  });

export type InboundEvent = z.infer<typeof inboundEventSchema>;
export type SlackOrigin = z.infer<typeof slackOriginSchema>;
export type EmailOrigin = z.infer<typeof emailOriginSchema>;
export type EmailAttachment = z.infer<typeof emailAttachmentSchema>;
export type Approval = z.infer<typeof approvalSchema>;

/** Action ids of the approve and deny buttons the worker posts; the ingress recognises these. */
export const APPROVAL_ACTION_IDS = { approve: 'approval:approve', deny: 'approval:deny' } as const;

/** `purpose` of the signed token on approval buttons (see core/signed-token.ts). */
export const APPROVAL_TOKEN_PURPOSE = 'approval';
export const approvalTokenClaimsSchema = z.object({ requestId: z.string().min(1), conversationId: z.string().min(1) });
export type ApprovalTokenClaims = z.infer<typeof approvalTokenClaimsSchema>;

/** `purpose` of the signed token in an email reply plus-address (`assistant+<token>@…`). */
export const EMAIL_REPLY_TOKEN_PURPOSE = 'email-reply';
export const emailReplyTokenClaimsSchema = z.object({ conversationId: z.string().min(1) });
export type EmailReplyTokenClaims = z.infer<typeof emailReplyTokenClaimsSchema>;

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
