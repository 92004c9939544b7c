import { createHash } from 'node:crypto';

/**
 * A reply as a raw MIME message, built here rather than by SES's Simple content so the
 * threading headers (`In-Reply-To`, `References`) are exactly ours. Pure functions.
 */

export interface ReplyMimeInput {
  from: string;
  to: string[];
  replyTo?: string;
  subject: string;
  /** Bare Message-ID of the message answered; '' for a message that answers none (no threading headers, the subject as given). */
  inReplyTo: string;
  /** Bare Message-IDs of the thread so far, root first. */
  references: string[];
  text: string;
  /** Makes the Message-ID: the same key, the same id. */
  key: string;
  date: Date;
  /** RFC 3834: 'auto-replied' for answers, 'auto-generated' for what an agent sends unasked. @default 'auto-replied' */
  autoSubmitted?: 'auto-replied' | 'auto-generated';
}

/** `References` keeps the root and the newest ids: long threads must not grow the header without bound. */
const MAX_REFERENCES = 20;

/** `Re: ` once: `Re: Re: plan` and `RE: plan` stay as they are. */
export function replySubject(subject: string): string {
  const trimmed = subject.trim();
  if (/^re\s*:/i.test(trimmed)) return trimmed;
  return trimmed === '' ? 'Re: your message' : `Re: ${trimmed}`;
}

/** `assistant@agents.example.com` + token → `assistant+token@agents.example.com` (an existing +tag is replaced). */
export function plusAddress(address: string, token: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) throw new TypeError(`"${address}" is not an email address`);
  const local = address.slice(0, at).replace(/\+.*$/, '');
  return `${local}+${token}${address.slice(at)}`;
}

export function threadReferences(references: string[], inReplyTo: string): string[] {
  const ids = [...new Set([...references, inReplyTo].map((id) => id.trim()).filter(Boolean))];
  if (ids.length <= MAX_REFERENCES) return ids;
  return [ids[0] as string, ...ids.slice(ids.length - MAX_REFERENCES + 1)];
}

/** The bare Message-ID of the message sent with `key` from `from`: the same key, the same id. */
export function replyMessageId(key: string, from: string): string {
  const domain = from.slice(from.lastIndexOf('@') + 1).toLowerCase() || 'localhost';
  return `reply.${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${domain}`;
}

export function buildReplyMime(input: ReplyMimeInput): string {
  const messageId = replyMessageId(input.key, input.from);
  const answers = input.inReplyTo !== '';
  const headers: [string, string][] = [
    ['From', input.from],
    ['To', input.to.join(', ')],
    ...(input.replyTo ? ([['Reply-To', input.replyTo]] as [string, string][]) : []),
    ['Subject', encodeHeaderWord(answers ? replySubject(input.subject) : input.subject.trim())],
    ['Date', input.date.toUTCString().replace('GMT', '+0000')],
    ['Message-ID', `<${messageId}>`],
    ...(answers
      ? ([
          ['In-Reply-To', `<${input.inReplyTo}>`],
          [
            'References',
            threadReferences(input.references, input.inReplyTo)
              .map((id) => `<${id}>`)
              .join(' '),
          ],
        ] as [string, string][])
      : []),
    // RFC 3834: an automatic message; vacation responders must not answer it.
    ['Auto-Submitted', input.autoSubmitted ?? 'auto-replied'],
    ['MIME-Version', '1.0'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Transfer-Encoding', 'base64'],
  ];
  const head = headers.map(([name, value]) => `${name}: ${foldHeader(headerValue(value))}`).join('\r\n');
  const body = Buffer.from(input.text.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return `${head}\r\n\r\n${body}\r\n`;
}

/** No header value may carry a line break: that is how headers get injected. */
function headerValue(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

/** RFC 2047 for non-ASCII subjects. */
function encodeHeaderWord(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** Lines of at most 78 characters where spaces allow (RFC 5322 §2.1.1). */
function foldHeader(value: string): string {
  if (value.length <= 70) return value;
  const words = value.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > 70) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join('\r\n ');
}
