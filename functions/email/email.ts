import PostalMime, { type Address, type Email } from 'postal-mime';
import {
  EMAIL_REPLY_TOKEN_PURPOSE,
  bareMessageId,
  emailConversationId,
  emailReplyTokenClaimsSchema,
  isStopText,
  parseInboundEvent,
  type InboundEvent,
} from '../../core/inbound-event.ts';
import { verifyToken } from '../../core/signed-token.ts';
import type { EmailEdgeSettings } from './settings.ts';
import { isAllowedSender, pickRecipient, verdictProblem, type SesReceipt } from './email-checks.ts';
import { bodyText, capText, stripQuotedReply } from './email-text.ts';

export interface ParsedAttachment {
  filename: string;
  contentType: string;
  size: number;
  /** The decoded bytes, for the step that stores attachments. */
  content: Uint8Array;
}

export type InboundEmailResult = { accepted: InboundEvent; attachments: ParsedAttachment[] } | { rejected: string };

export interface ParseInboundEmailInput {
  /** The raw MIME message, as SES stored it. */
  raw: Uint8Array | string;
  receipt: SesReceipt;
  /** S3 key of the raw message, kept in the event. */
  s3Key?: string;
  config: Pick<EmailEdgeSettings, 'EMAIL_ALLOWED_SENDERS' | 'EMAIL_REPLY_TOKEN_SECRET' | 'EMAIL_DMARC_POLICY' | 'EMAIL_MAX_BODY_CHARS' | 'EMAIL_MAX_RAW_BYTES'>;
  /** Clock, in milliseconds. @default Date.now */
  now?: () => number;
}

/** Parser bounds: real mail nests a handful of levels and carries a few KiB of headers. */
const MAX_NESTING_DEPTH = 32;
const MAX_HEADERS_BYTES = 128 * 1024;
const MAX_ATTACHMENTS = 100;

/**
 * Decides whether one inbound email becomes an event, and for which agent and conversation.
 * Cheap checks (size, SES verdicts) run before the MIME parser sees a byte.
 */
export async function parseInboundEmail(input: ParseInboundEmailInput): Promise<InboundEmailResult> {
  const { config, receipt } = input;
  const now = input.now ?? Date.now;
  const size = typeof input.raw === 'string' ? Buffer.byteLength(input.raw) : input.raw.byteLength;
  if (size > config.EMAIL_MAX_RAW_BYTES) return { rejected: `message is ${size} bytes, over the limit of ${config.EMAIL_MAX_RAW_BYTES}` };
  const verdict = verdictProblem(receipt, config.EMAIL_DMARC_POLICY);
  if (verdict) return { rejected: verdict };
  const route = pickRecipient(receipt.recipients ?? []);
  if (!route) return { rejected: 'no recipient names an agent (expected agent@ or agent+token@)' };

  let email: Email;
  try {
    email = await PostalMime.parse(input.raw, { maxNestingDepth: MAX_NESTING_DEPTH, maxHeadersSize: MAX_HEADERS_BYTES, attachmentEncoding: 'arraybuffer' });
  } catch (error) {
    return { rejected: `message could not be parsed: ${(error as Error).message}` };
  }
  const from = email.from?.address?.trim().toLowerCase();
  if (!from) return { rejected: 'message has no single From address' };
  if (!isAllowedSender(from, config.EMAIL_ALLOWED_SENDERS)) return { rejected: `sender ${from} is not in EMAIL_ALLOWED_SENDERS` };
  if (!email.messageId || bareMessageId(email.messageId) === '') return { rejected: 'message has no Message-ID header' };
  if (email.attachments.length > MAX_ATTACHMENTS) return { rejected: `message has ${email.attachments.length} attachments, over ${MAX_ATTACHMENTS}` };

  const body = bodyText(email);
  if ('problem' in body) return { rejected: body.problem };
  const text = capText(stripQuotedReply(body.text), config.EMAIL_MAX_BODY_CHARS);
  const subject = email.subject?.trim() ?? '';
  if (text === '' && subject === '') return { rejected: 'message has neither text nor subject' };

  const messageId = bareMessageId(email.messageId);
  const references = messageIds(email.references);
  const inReplyTo = messageIds(email.inReplyTo)[0];
  let conversationId = emailConversationId(references[0] ?? inReplyTo ?? messageId);
  if (route.token !== undefined) {
    const verified = verifyToken(route.token, config.EMAIL_REPLY_TOKEN_SECRET, { purpose: EMAIL_REPLY_TOKEN_PURPOSE, now });
    if (!verified.ok) return { rejected: `reply token rejected: ${verified.reason}` };
    const claims = emailReplyTokenClaimsSchema.safeParse(verified.claims);
    if (!claims.success) return { rejected: 'reply token rejected: it names no conversation' };
    conversationId = claims.data.conversationId;
  }

  const attachments = email.attachments.map((attachment) => {
    const content = new Uint8Array(attachment.content as ArrayBuffer);
    return { filename: attachment.filename ?? 'unnamed', contentType: attachment.mimeType, size: content.byteLength, content };
  });
  const name = email.from?.name?.trim();
  const event = parseInboundEvent({
    version: 1,
    id: `email-message:${messageId}`,
    source: 'email',
    kind: isStopText(text) ? 'stop' : 'message',
    conversationId,
    agent: route.agent,
    receivedAt: new Date(now()).toISOString(),
    user: { id: from, email: from, ...(name ? { name } : {}) },
    text,
    email: {
      messageId,
      ...(inReplyTo ? { inReplyTo } : {}),
      references,
      subject,
      from,
      to: mailboxes(email.to),
      ...(input.s3Key ? { rawS3Key: input.s3Key } : {}),
      ...(route.token !== undefined ? { replyToken: route.token } : {}),
      attachments: attachments.map(({ content: _content, ...metadata }) => metadata),
    },
  });
  return { accepted: event, attachments };
}

/** `<a@x> <b@y>` → `['a@x', 'b@y']`; a header without brackets is split on whitespace. */
function messageIds(header: string | undefined): string[] {
  if (!header) return [];
  const bracketed = header.match(/<[^<>\s]+>/g);
  return (bracketed ?? header.split(/\s+/)).map(bareMessageId).filter(Boolean);
}

function mailboxes(addresses: Address[] | undefined): string[] {
  return (addresses ?? []).flatMap((address) => (address.group ? address.group : [address])).map((mailbox) => mailbox.address.toLowerCase());
}
