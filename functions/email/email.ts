import PostalMime, { type Address, type Email } from 'postal-mime';
import { checkReplyToken, participantAddress } from '../../events/email-thread.ts';
import { bareMessageId, emailConversationId, isStopText, parseInboundEvent, type InboundEvent } from '../../events/inbound-event.ts';
import type { EmailThreadIndex } from '../../store/email-thread-index.ts';
import type { EmailEdgeSettings } from '../../config/email-edge-settings.ts';
import {
  automaticMailSignal,
  contentVerdictProblem,
  headerValues,
  isAllowedSender,
  pickRecipient,
  senderAuthentication,
  singleFrom,
  type FromMailbox,
  type MailHeader,
  type RecipientRoute,
  type SesMail,
  type SesReceipt,
} from './email-checks.ts';
import { bodyText, capText, stripQuotedReply } from './email-text.ts';

export interface ParsedAttachment {
  filename: string;
  contentType: string;
  size: number;
  /** The decoded bytes, for the step that stores attachments; absent when the attachment was omitted. */
  content?: Uint8Array;
  /** Why the bytes were not kept. */
  omitted?: string;
}

export type InboundEmailResult = { accepted: InboundEvent; attachments: ParsedAttachment[]; notes: string[] } | { rejected: string };

export type EmailConfig = Pick<
  EmailEdgeSettings,
  | 'EMAIL_ALLOWED_SENDERS'
  | 'EMAIL_REPLY_TOKEN_SECRET'
  | 'EMAIL_DMARC_POLICY'
  | 'EMAIL_MAX_BODY_CHARS'
  | 'EMAIL_MAX_RAW_BYTES'
  | 'EMAIL_MAX_ATTACHMENT_BYTES'
>;

export interface ParseInboundEmailInput {
  /** The raw MIME message, as SES stored it. */
  raw: Uint8Array | string;
  /** SES's notification: what it received and how it judged it. */
  mail: SesMail;
  receipt: SesReceipt;
  /** S3 key of the raw message, kept in the event. */
  s3Key?: string;
  config: EmailConfig;
  /** Where the worker recorded its replies' threads; without it every message starts a conversation. */
  threads?: Pick<EmailThreadIndex, 'getToken' | 'getMessage'>;
  /** Clock, in milliseconds. @default Date.now */
  now?: () => number;
}

/** Parser bounds: real mail nests a handful of levels and carries a few KiB of headers. */
const MAX_NESTING_DEPTH = 32;
const MAX_HEADERS_BYTES = 128 * 1024;
export const MAX_ATTACHMENTS = 100;
/** Message-IDs longer than this are refused: they become Temporal update and workflow ids. */
export const MAX_MESSAGE_ID = 250;
export const MAX_SUBJECT = 300;
/** Ids of `References` kept: the root and the newest. */
export const MAX_REFERENCES = 20;
const MAX_FILENAME = 200;

export interface Screened {
  from: FromMailbox;
  route: RecipientRoute;
  /** The verified reply token's id. */
  tokenId?: string;
  authenticatedBy: string;
}

/**
 * What SES's notification alone decides, before a byte is downloaded: verdicts, the recipient,
 * the reply token's MAC, a single plain From that is allowed and authenticated, automatic
 * mail, and the Message-ID's shape.
 */
export function screenNotification(mail: SesMail, receipt: SesReceipt, config: EmailConfig): { rejected: string } | { accepted: Screened } {
  const verdict = contentVerdictProblem(receipt);
  if (verdict) return { rejected: verdict };
  const route = pickRecipient(receipt.recipients ?? []);
  if (!route) return { rejected: 'no recipient names an agent (expected agent@ or agent+token@)' };
  let tokenId: string | undefined;
  if (route.token !== undefined) {
    const checked = checkReplyToken(route.token, config.EMAIL_REPLY_TOKEN_SECRET);
    if (!checked.ok) return { rejected: `reply token rejected: ${checked.reason}` };
    tokenId = checked.id;
  }
  const headers = mail.headersTruncated ? undefined : mail.headers;
  const from = singleFrom(headers ? headerValues(headers, 'from') : [(mail.commonHeaders?.from ?? []).join(', ')].filter(Boolean));
  if ('problem' in from) return { rejected: from.problem };
  if (!isAllowedSender(from.address, config.EMAIL_ALLOWED_SENDERS))
    return { rejected: `sender ${from.address} is not in EMAIL_ALLOWED_SENDERS` };
  const authentication = senderAuthentication(
    from.address.slice(from.address.lastIndexOf('@') + 1),
    receipt,
    mail,
    config.EMAIL_DMARC_POLICY,
  );
  if ('problem' in authentication) return { rejected: authentication.problem };
  const automatic = automaticMailSignal(headers ?? [], mail.source);
  if (automatic) return { rejected: `automatic mail is not answered: ${automatic}` };
  const messageId = mail.commonHeaders?.messageId;
  if (messageId !== undefined) {
    const problem = messageIdProblem(messageId);
    if (problem) return { rejected: problem };
  }
  return {
    accepted: { from, route, ...(tokenId ? { tokenId } : {}), authenticatedBy: `${authentication.via} (${authentication.domain})` },
  };
}

/**
 * Decides whether one inbound email becomes an event, and for which agent and conversation.
 * The notification's checks run first (again: this function stands alone); then the stored
 * message must say the same about its From and carry no sign of automatic mail.
 */
export async function parseInboundEmail(input: ParseInboundEmailInput): Promise<InboundEmailResult> {
  const { config, receipt } = input;
  const now = input.now ?? Date.now;
  const size = typeof input.raw === 'string' ? Buffer.byteLength(input.raw) : input.raw.byteLength;
  if (size > config.EMAIL_MAX_RAW_BYTES) return { rejected: `message is ${size} bytes, over the limit of ${config.EMAIL_MAX_RAW_BYTES}` };
  const screened = screenNotification(input.mail, receipt, config);
  if ('rejected' in screened) return screened;
  const { route, tokenId } = screened.accepted;

  let email: Email;
  try {
    email = await PostalMime.parse(input.raw, {
      maxNestingDepth: MAX_NESTING_DEPTH,
      maxHeadersSize: MAX_HEADERS_BYTES,
      attachmentEncoding: 'arraybuffer',
    });
  } catch (error) {
    return { rejected: `message could not be parsed: ${(error as Error).message.slice(0, 200)}` };
  }
  const headers: MailHeader[] = email.headers.map((header) => ({ name: header.key, value: header.value }));
  const from = singleFrom(headerValues(headers, 'from'));
  if ('problem' in from) return { rejected: from.problem };
  if (from.address !== screened.accepted.from.address) return { rejected: 'the stored message names another From than SES notified' };
  const automatic = automaticMailSignal(headers);
  if (automatic) return { rejected: `automatic mail is not answered: ${automatic}` };
  if (!email.messageId || bareMessageId(email.messageId) === '') return { rejected: 'message has no Message-ID header' };
  const messageIdIssue = messageIdProblem(email.messageId);
  if (messageIdIssue) return { rejected: messageIdIssue };
  if (email.attachments.length > MAX_ATTACHMENTS)
    return { rejected: `message has ${email.attachments.length} attachments, over ${MAX_ATTACHMENTS}` };

  const body = bodyText(email);
  if ('problem' in body) return { rejected: body.problem };
  const text = capText(stripQuotedReply(body.text), config.EMAIL_MAX_BODY_CHARS);
  const notes: string[] = [];
  let subject = (email.subject ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  if (subject.length > MAX_SUBJECT) {
    notes.push(`subject cut from ${subject.length} to ${MAX_SUBJECT} characters`);
    subject = subject.slice(0, MAX_SUBJECT);
  }
  if (text === '' && subject === '') return { rejected: 'message has neither text nor subject' };

  const messageId = bareMessageId(email.messageId);
  const allReferences = messageIds(email.references);
  const references =
    allReferences.length <= MAX_REFERENCES ? allReferences : [allReferences[0] as string, ...allReferences.slice(-(MAX_REFERENCES - 1))];
  if (references.length < allReferences.length) notes.push(`References cut from ${allReferences.length} to ${references.length} ids`);
  const inReplyTo = messageIds(email.inReplyTo)[0];
  const thread = await conversationOf({
    messageId,
    inReplyTo,
    references,
    from: from.address,
    ...(tokenId ? { tokenId } : {}),
    threads: input.threads,
    nowSeconds: Math.floor(now() / 1000),
  });
  notes.push(thread.note);

  const attachments = email.attachments.map((attachment): ParsedAttachment => {
    const content = new Uint8Array(attachment.content as ArrayBuffer);
    const metadata = {
      filename: safeFilename(attachment.filename),
      contentType: safeContentType(attachment.mimeType),
      size: content.byteLength,
    };
    if (content.byteLength > config.EMAIL_MAX_ATTACHMENT_BYTES)
      return { ...metadata, omitted: `over EMAIL_MAX_ATTACHMENT_BYTES=${config.EMAIL_MAX_ATTACHMENT_BYTES}` };
    return { ...metadata, content };
  });
  const name = from.name;
  const event = parseInboundEvent({
    version: 1,
    id: `email-message:${messageId}`,
    source: 'email',
    kind: isStopText(text) ? 'stop' : 'message',
    conversationId: thread.conversationId,
    agent: route.agent,
    receivedAt: new Date(now()).toISOString(),
    user: { id: from.address, email: from.address, ...(name ? { name } : {}) },
    text,
    email: {
      messageId,
      ...(inReplyTo ? { inReplyTo } : {}),
      references,
      subject,
      from: from.address,
      to: mailboxes(email.to),
      agentAddress: route.address,
      ...(input.s3Key ? { rawS3Key: input.s3Key } : {}),
      ...(thread.joinedBy === 'token' && route.token !== undefined ? { replyToken: route.token.toLowerCase() } : {}),
      attachments: attachments.map(({ content: _content, ...metadata }) => metadata),
    },
  });
  return { accepted: event, attachments, notes };
}

interface ThreadInput {
  messageId: string;
  inReplyTo: string | undefined;
  references: string[];
  from: string;
  tokenId?: string;
  threads: ParseInboundEmailInput['threads'];
  nowSeconds: number;
}

/**
 * The conversation a message belongs to: the reply token's, else the one of the newest
 * referenced reply of ours whose participants include the sender, else a new one named by the
 * message's own id. Headers are the sender's to write; a thread record is ours.
 */
async function conversationOf(
  input: ThreadInput,
): Promise<{ conversationId: string; joinedBy: 'token' | 'headers' | 'new'; note: string }> {
  const fresh = (note: string) => ({ conversationId: emailConversationId(input.messageId), joinedBy: 'new' as const, note });
  if (!input.threads) return fresh('new conversation (no thread records configured)');
  let tokenNote = '';
  if (input.tokenId) {
    const record = await input.threads.getToken(input.tokenId);
    if (record && record.expiresAt > input.nowSeconds)
      return { conversationId: record.conversationId, joinedBy: 'token', note: 'joined by reply token' };
    tokenNote = record ? 'reply token expired; ' : 'reply token unknown; ';
  }
  const candidates = [...new Set([...(input.inReplyTo ? [input.inReplyTo] : []), ...[...input.references].reverse()])].slice(
    0,
    MAX_REFERENCES + 1,
  );
  const records = await Promise.all(candidates.map((id) => input.threads!.getMessage(id)));
  const found = records.find((record) => record !== undefined && record.expiresAt > input.nowSeconds);
  if (!found) return fresh(`${tokenNote}new conversation`);
  if (!found.participants.includes(participantAddress(input.from)))
    return fresh(`${tokenNote}new conversation: the sender is not a participant of the thread it references`);
  return {
    conversationId: found.conversationId,
    joinedBy: 'headers',
    note: `${tokenNote}joined by References/In-Reply-To as a participant`,
  };
}

/** Message-IDs become Temporal ids and SQS deduplication ids: printable ASCII, bounded. */
export function messageIdProblem(raw: string): string | undefined {
  const id = bareMessageId(raw);
  if (id === '') return 'message has no Message-ID header';
  if (id.length > MAX_MESSAGE_ID) return `Message-ID is ${id.length} characters, over ${MAX_MESSAGE_ID}`;
  if (!/^[!-~]+$/.test(id)) return 'Message-ID holds spaces or characters outside printable ASCII';
  return undefined;
}

/** `<a@x> <b@y>` → `['a@x', 'b@y']`; ids that could not be ours (too long, odd characters) are skipped. */
function messageIds(header: string | undefined): string[] {
  if (!header) return [];
  const bracketed = header.slice(0, 64 * 1024).match(/<[^<>\s]{1,998}>/g);
  return [
    ...new Set((bracketed ?? header.split(/\s+/)).map(bareMessageId).filter((id) => id !== '' && messageIdProblem(id) === undefined)),
  ];
}

function mailboxes(addresses: Address[] | undefined): string[] {
  return (addresses ?? [])
    .flatMap((address) => (address.group ? address.group : [address]))
    .map((mailbox) => mailbox.address.toLowerCase().slice(0, 254))
    .filter(Boolean)
    .slice(0, 50);
}

/** A content type the store takes (`type/subtype`), else `application/octet-stream`. */
export function safeContentType(contentType: string | undefined): string {
  const bare = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/.test(bare) ? bare : 'application/octet-stream';
}

/** A name to show, never a path: no separators, no control characters, bounded. */
export function safeFilename(filename: string | null | undefined): string {
  const cleaned = (filename ?? '')
    .replace(/[\u0000-\u001f\u007f/\\]/g, '_')
    .trim()
    .slice(0, MAX_FILENAME);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'unnamed' : cleaned;
}
