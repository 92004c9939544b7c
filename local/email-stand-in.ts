import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import PostalMime from 'postal-mime';

/**
 * A local mail system for `npm start`. Outbound, it speaks SES v2's `SendEmail` (`POST
 * /v2/email/outbound-emails`, raw content), so the worker's real SES reply adapter sends
 * through `@aws-sdk/client-sesv2` pointed here. Inbound, a message written in the console is
 * built as raw MIME and handed to `deliver`, which runs the email edge's own parsing and
 * admission checks, as SES → S3 → the email Lambda would.
 */

export interface MailMessage {
  /** Message-ID without angle brackets. */
  messageId: string;
  direction: 'in' | 'out';
  from: string;
  to: string[];
  replyTo?: string;
  subject: string;
  text: string;
  /** ISO time. */
  date: string;
  inReplyTo?: string;
  references: string[];
  /** Root Message-ID of the thread: the first reference, or the message itself. */
  threadId: string;
  /** Inbound only: what the email edge decided. */
  outcome?: string;
}

export interface ComposeInput {
  from: string;
  to: string;
  subject: string;
  text: string;
  /** The message answered, for a reply in a thread. */
  inReplyTo?: string;
}

export interface EmailStandInOptions {
  /** Messages to start with (what a previous run kept). */
  messages?: MailMessage[];
  onChange?: (message: MailMessage) => void;
  /** Runs one inbound raw message through the email edge; answers `queued` or why it was refused. */
  deliver: (raw: string, recipients: string[]) => Promise<{ queued: true } | { rejected: string }>;
  /** Domain of generated Message-IDs. @default 'console.local' */
  domain?: string;
}

export interface EmailStandIn {
  /** Endpoint for `new SESv2Client({ endpoint })`. */
  url: string;
  messages(): MailMessage[];
  /** Writes a message to an agent, as a person's mail client would, and delivers it. */
  compose(input: ComposeInput): Promise<MailMessage>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function startEmailStandIn(options: EmailStandInOptions): Promise<EmailStandIn> {
  const stored: MailMessage[] = [...(options.messages ?? [])];
  const domain = options.domain ?? 'console.local';

  function keep(message: MailMessage): MailMessage {
    const index = stored.findIndex((existing) => existing.messageId === message.messageId && existing.direction === message.direction);
    // The reply adapter derives Message-ID from its reply key: a retried send replaces, not repeats.
    if (index >= 0) stored[index] = message;
    else stored.push(message);
    options.onChange?.(message);
    return message;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url?.split('?')[0] !== '/v2/email/outbound-emails') {
      return send(404, { message: `No route for ${request.method} ${request.url}; this stand-in speaks SES v2 SendEmail only.` });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return send(400, { message: 'Message too large.' });
      chunks.push(chunk);
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      Content?: { Raw?: { Data?: string } };
      Destination?: { ToAddresses?: string[] };
    };
    const data = body.Content?.Raw?.Data;
    if (!data) return send(400, { message: 'Only raw content is supported here (Content.Raw.Data).' });
    const raw = Buffer.from(data, 'base64').toString('utf8');
    const message = keep({ ...(await describe(raw)), direction: 'out' });
    send(200, { MessageId: message.messageId });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: (error as Error).message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    messages: () => [...stored],
    async compose(input) {
      const parent = input.inReplyTo ? stored.find((message) => message.messageId === input.inReplyTo) : undefined;
      const messageId = `${crypto.randomUUID()}@${domain}`;
      const references = parent ? [...parent.references, parent.messageId] : [];
      const raw = [
        `From: ${input.from}`,
        `To: ${input.to}`,
        `Subject: ${input.subject.replace(/[\r\n]+/g, ' ')}`,
        `Message-ID: <${messageId}>`,
        `Date: ${new Date().toUTCString()}`,
        ...(parent ? [`In-Reply-To: <${parent.messageId}>`, `References: ${references.map((id) => `<${id}>`).join(' ')}`] : []),
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        input.text.replace(/\r?\n/g, '\r\n'),
        '',
      ].join('\r\n');
      const outcome = await options.deliver(raw, [input.to]);
      return keep({ ...(await describe(raw)), direction: 'in', outcome: 'queued' in outcome ? 'queued' : `refused: ${outcome.rejected}` });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function describe(raw: string): Promise<Omit<MailMessage, 'direction'>> {
  const email = await PostalMime.parse(raw);
  const bare = (id: string) => id.trim().replace(/^<|>$/g, '');
  const references = (email.references ?? '').match(/<[^<>\s]+>/g)?.map(bare) ?? [];
  const messageId = bare(email.messageId ?? crypto.randomUUID());
  const inReplyTo = email.inReplyTo ? bare(email.inReplyTo) : undefined;
  return {
    messageId,
    from: email.from?.address ?? '',
    to: (email.to ?? []).flatMap((address) => (address.group ? address.group : [address])).map((mailbox) => mailbox.address),
    ...(email.replyTo?.[0]?.address ? { replyTo: email.replyTo[0].address } : {}),
    subject: email.subject ?? '',
    text: (email.text ?? '').trim(),
    date: email.date ? new Date(email.date).toISOString() : new Date().toISOString(),
    ...(inReplyTo ? { inReplyTo } : {}),
    references,
    threadId: references[0] ?? inReplyTo ?? messageId,
  };
}
