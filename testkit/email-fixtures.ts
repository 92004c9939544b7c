import { randomUUID } from 'node:crypto';
import type { MailHeader, SesMail, SesReceipt } from '../functions/email/email-checks.ts';
import type { SqsBatchEvent } from '../functions/shared/sqs-batch.ts';

export const AGENT_ADDRESS = 'assistant@agents.example.com';

export interface MimeOptions {
  from?: string;
  to?: string;
  subject?: string;
  /** `null` leaves the header out. */
  messageId?: string | null;
  inReplyTo?: string;
  references?: string;
  body?: string;
  /** Replaces the whole body part, Content-Type included. */
  rawBodyPart?: string;
  extraHeaders?: string[];
}

/** A small RFC 5322 message with CRLF line ends, as SES stores it. */
export function mime(options: MimeOptions = {}): string {
  const headers = [
    `From: ${options.from ?? 'Ana Example <ana@example.com>'}`,
    `To: ${options.to ?? AGENT_ADDRESS}`,
    `Subject: ${options.subject ?? 'Quarterly numbers'}`,
    'Date: Mon, 8 Apr 2024 10:00:00 +0000',
    'MIME-Version: 1.0',
    ...(options.messageId === null ? [] : [`Message-ID: ${options.messageId ?? `<${randomUUID()}@mail.example.com>`}`]),
    ...(options.inReplyTo ? [`In-Reply-To: ${options.inReplyTo}`] : []),
    ...(options.references ? [`References: ${options.references}`] : []),
    ...(options.extraHeaders ?? []),
  ];
  const bodyPart =
    options.rawBodyPart ?? `Content-Type: text/plain; charset=utf-8\r\n\r\n${options.body ?? 'Please summarise the attached report.'}`;
  return `${headers.join('\r\n')}\r\n${bodyPart}\r\n`;
}

/** A receipt whose verdicts all pass, with overrides. */
export function receipt(overrides: Partial<SesReceipt> = {}): SesReceipt {
  return {
    recipients: [AGENT_ADDRESS],
    spamVerdict: { status: 'PASS' },
    virusVerdict: { status: 'PASS' },
    spfVerdict: { status: 'PASS' },
    dkimVerdict: { status: 'PASS' },
    dmarcVerdict: { status: 'PASS' },
    ...overrides,
  };
}

/**
 * The `mail` object SES would send for this raw message: its headers (unfolded, in order, with
 * SES's own on top), the common ones, and the envelope sender, `ana@example.com` unless told.
 */
export function sesMail(raw: string | Uint8Array = mime(), options: { source?: string; sesHeaders?: MailHeader[] } = {}): SesMail {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const lines = (end < 0 ? text : text.slice(0, end)).split(/\r?\n/);
  const headers: MailHeader[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) headers.at(-1)!.value += ` ${line.trim()}`;
    else {
      const colon = line.indexOf(':');
      if (colon > 0 && /^[!-9;-~]+$/.test(line.slice(0, colon)))
        headers.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim() });
    }
  }
  const values = (name: string) => headers.filter((header) => header.name.toLowerCase() === name).map((header) => header.value);
  const source = options.source ?? 'ana@example.com';
  return {
    source,
    headersTruncated: false,
    headers: [{ name: 'Return-Path', value: `<${source}>` }, ...(options.sesHeaders ?? []), ...headers],
    commonHeaders: {
      returnPath: source,
      from: values('from'),
      ...(values('message-id')[0] ? { messageId: values('message-id')[0] } : {}),
      subject: values('subject')[0] ?? '',
    },
  };
}

/** One SQS record carrying SNS's envelope around SES's "Received" notification. */
export function sesRecord(options: {
  bucket: string;
  key: string;
  receipt?: SesReceipt;
  mail?: SesMail;
  raw?: string | Uint8Array;
  sqsMessageId?: string;
}): SqsBatchEvent['Records'][number] {
  const sesNotification = {
    notificationType: 'Received',
    mail: {
      timestamp: '2024-04-08T10:00:01.000Z',
      messageId: `ses-${randomUUID()}`,
      destination: [AGENT_ADDRESS],
      ...(options.mail ?? sesMail(options.raw)),
    },
    receipt: {
      timestamp: '2024-04-08T10:00:01.000Z',
      processingTimeMillis: 412,
      ...(options.receipt ?? receipt()),
      action: {
        type: 'S3',
        topicArn: 'arn:aws:sns:us-east-1:123456789012:inbound-mail',
        bucketName: options.bucket,
        objectKeyPrefix: 'inbound/',
        objectKey: options.key,
      },
    },
  };
  const snsEnvelope = {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:inbound-mail',
    Subject: 'Amazon SES Email Receipt Notification',
    Message: JSON.stringify(sesNotification),
    Timestamp: '2024-04-08T10:00:01.500Z',
  };
  return { messageId: options.sqsMessageId ?? randomUUID(), body: JSON.stringify(snsEnvelope) };
}
