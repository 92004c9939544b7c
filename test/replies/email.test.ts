import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyChannel } from '../../core/conversation.ts';
import { checkReplyToken } from '../../events/email-thread.ts';
import { parseInboundEmail } from '../../functions/email/email.ts';
import { createEmailThreadIndex } from '../../store/email-thread-index.ts';
import { createMemoryRecordFiles } from '../../store/record-files.ts';
import { sesMail } from '../../testkit/email-fixtures.ts';
import { emailApprovalCode, parseEmailApprovalReply } from '../../events/email-approval.ts';
import { replySubject } from '../../worker/replies/email-mime.ts';
import { createEmailReplyAdapter, sesHeaderMessageId } from '../../worker/replies/email.ts';
import { emailConfig, REPLY_SECRET } from '../../testkit/ingress.ts';
import { MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';

const APPROVAL_SECRET = 'test-approval-secret-51c2';
const AGENT = 'assistant@agents.example.com';

let moto: MotoServer;
let ses: SESv2Client;

beforeAll(async () => {
  moto = await startMoto();
  ses = new SESv2Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
  await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'agents.example.com' }));
});
afterAll(async () => {
  ses?.destroy();
  await moto?.stop();
});

/** What moto's SES stored, newest last: its `/moto-api/data.json` keeps every raw message sent. */
async function sentMessages(): Promise<{ source: string; destinations: string[]; raw_data: string }[]> {
  const data = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as {
    ses: { RawMessage: { source: string; destinations: string[]; raw_data: string }[] };
  };
  return data.ses.RawMessage;
}

const threads = createEmailThreadIndex(createMemoryRecordFiles());

function adapter() {
  return createEmailReplyAdapter({ ses, replyTokenSecret: REPLY_SECRET, approvalSecret: APPROVAL_SECRET, threads });
}

function thread(id: string, subject = 'Launch plan'): Extract<ReplyChannel, { kind: 'email' }> {
  return {
    kind: 'email',
    from: AGENT,
    to: ['ana@example.com'],
    subject,
    inReplyTo: `second-${id}@mail.example.com`,
    references: [`root-${id}@mail.example.com`, `first-reply-${id}@agents.example.com`],
  };
}

describe('email reply adapter through SES v2 (moto)', () => {
  it('sends a threaded reply: In-Reply-To, References, one "Re:", and a Reply-To token that leads back to the conversation', async () => {
    const before = (await sentMessages()).length;
    const channel = thread('a1');
    await adapter().answer(channel, 'email:root-a1@mail.example.com#2', 'The launch is on **Tuesday**.\n\nSee you there.');

    const sent = (await sentMessages()).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.source).toBe(AGENT);
    const mail = await PostalMime.parse(sent[0]!.raw_data);
    expect(mail.subject).toBe('Re: Launch plan');
    expect(mail.from?.address).toBe(AGENT);
    expect(mail.to?.map((address) => address.address)).toEqual(['ana@example.com']);
    expect(mail.inReplyTo).toBe('<second-a1@mail.example.com>');
    expect(mail.references).toBe('<root-a1@mail.example.com> <first-reply-a1@agents.example.com> <second-a1@mail.example.com>');
    expect(mail.messageId).toMatch(/^<reply\.[0-9a-f]{32}@agents\.example\.com>$/);
    expect(mail.headers.find((header) => header.key === 'auto-submitted')?.value).toBe('auto-replied');
    expect(mail.text?.replace(/\r\n/g, '\n').trim()).toBe('The launch is on **Tuesday**.\n\nSee you there.');

    const replyTo = mail.replyTo?.[0]?.address ?? '';
    const match = /^(assistant\+([a-z2-7]+))@agents\.example\.com$/.exec(replyTo);
    expect(match).not.toBeNull();
    expect(match![1]!.length).toBeLessThanOrEqual(64);
    const checked = checkReplyToken(match![2]!, REPLY_SECRET);
    expect(checked.ok).toBe(true);
    expect(await threads.getToken(checked.ok ? checked.id : '')).toMatchObject({
      conversationId: 'email:root-a1@mail.example.com',
      participants: ['ana@example.com'],
    });
    expect(await threads.getMessage(mail.messageId!.slice(1, -1))).toMatchObject({ conversationId: 'email:root-a1@mail.example.com' });

    // Ana answers, and her mail client drops the threading headers: the Reply-To still finds the conversation.
    const answer = [
      'From: Ana <ana@example.com>',
      `To: ${replyTo}`,
      'Subject: Re: Launch plan',
      'Message-ID: <ana-answer-a1@mail.example.com>',
      '',
      'Thanks, and what time?',
    ].join('\r\n');
    const inbound = await parseInboundEmail({
      raw: answer,
      mail: sesMail(answer),
      receipt: { recipients: [replyTo], spfVerdict: { status: 'PASS' }, dkimVerdict: { status: 'PASS' }, dmarcVerdict: { status: 'PASS' } },
      config: emailConfig('https://sqs.us-east-1.amazonaws.com/1/q.fifo'),
      threads,
    });
    expect('accepted' in inbound && inbound.accepted.conversationId).toBe('email:root-a1@mail.example.com');
  });

  it("threads on the Message-ID SES writes: a reply naming only SES's id, with no token, joins the conversation", async () => {
    // SES replaces the Message-ID a sender supplies and answers with its own MessageId: record it, as the SDK returns it.
    const returned: string[] = [];
    const client = new SESv2Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const id = (result.output as { MessageId?: string }).MessageId;
        if (id) returned.push(id);
        return result;
      },
      { step: 'initialize', name: 'recordMessageId' },
    );
    const sesThreads = createEmailThreadIndex(createMemoryRecordFiles());
    const channel = { ...thread('s1'), conversationId: 'email:root-s1@mail.example.com' };
    await createEmailReplyAdapter({
      ses: client,
      replyTokenSecret: REPLY_SECRET,
      approvalSecret: APPROVAL_SECRET,
      threads: sesThreads,
    }).answer(channel, 'email:root-s1@mail.example.com#1', 'Tuesday.');
    expect(returned).toHaveLength(1);
    const seen = sesHeaderMessageId(returned[0]!, await client.config.region());
    expect(seen).toMatch(/@(email|[a-z]{2}-[a-z]+-\d)\.amazonses\.com$/);

    // Ana's client dropped the Reply-To token and quotes only what it saw: SES's id.
    const raw = [
      'From: Ana <ana@example.com>',
      `To: ${AGENT}`,
      'Subject: Re: Launch plan',
      `Message-ID: <third-s1@mail.example.com>`,
      `In-Reply-To: <${seen}>`,
      `References: <${seen}>`,
      '',
      'And where?',
    ].join('\r\n');
    const parsed = await parseInboundEmail({
      raw,
      mail: sesMail(raw),
      receipt: { recipients: [AGENT], spfVerdict: { status: 'PASS' }, dkimVerdict: { status: 'PASS' }, dmarcVerdict: { status: 'PASS' } },
      config: emailConfig('https://sqs.invalid/q.fifo'),
      threads: sesThreads,
    });
    expect(parsed).toMatchObject({ accepted: { conversationId: 'email:root-s1@mail.example.com' } });
    client.destroy();
  });

  it('does not double "Re:" and encodes a non-ASCII subject', async () => {
    expect(replySubject('Re: Launch plan')).toBe('Re: Launch plan');
    expect(replySubject('RE:Launch plan')).toBe('RE:Launch plan');
    expect(replySubject('Launch plan')).toBe('Re: Launch plan');
    const before = (await sentMessages()).length;
    await adapter().answer(thread('a2', 'Re: Über den Plan'), 'turn-a2', 'Ja.');
    const [sent] = (await sentMessages()).slice(before);
    expect(sent!.raw_data).toMatch(/^Subject: =\?UTF-8\?B\?/m);
    expect((await PostalMime.parse(sent!.raw_data)).subject).toBe('Re: Über den Plan');
  });

  it('sends once per key: a retried activity does not send again, and status updates send nothing', async () => {
    const replies = adapter();
    const before = (await sentMessages()).length;
    const channel = thread('a3');
    await replies.status(channel, 'turn-a3', { state: 'thinking', step: 1 });
    await Promise.all([replies.answer(channel, 'turn-a3', 'Once.'), replies.answer(channel, 'turn-a3', 'Once.')]);
    await replies.answer(channel, 'turn-a3', 'Once.');
    await replies.status(channel, 'turn-a3', { state: 'done' });
    expect((await sentMessages()).slice(before)).toHaveLength(1);
  });

  it('sends once per key across processes: a retry on another worker finds the reply marked sent', async () => {
    const before = (await sentMessages()).length;
    const channel = thread('a4');
    await adapter().answer(channel, 'turn-a4', 'Once, whoever retries.');
    // Another worker (a fresh adapter: nothing in its memory) retries the same activity.
    await adapter().answer(channel, 'turn-a4', 'Once, whoever retries.');
    expect((await sentMessages()).slice(before)).toHaveLength(1);
    // Without the shared records, a fresh process would send it again: the mark is what stops it.
    await createEmailReplyAdapter({ ses, replyTokenSecret: REPLY_SECRET, approvalSecret: APPROVAL_SECRET }).answer(
      channel,
      'turn-a4',
      'Once, whoever retries.',
    );
    expect((await sentMessages()).slice(before)).toHaveLength(2);
  });

  it('asks for approval with a reply code that the dispatcher can check', async () => {
    const before = (await sentMessages()).length;
    const request = {
      requestId: 'req-email-7',
      conversationId: 'email:root-a4@mail.example.com',
      tool: 'send_invoice',
      args: { customer: 'ACME', amount: 1200 },
      approvers: ['boss@example.com'],
      expiresAt: '2030-01-01T00:00:00.000Z',
    };
    await adapter().requestApproval(thread('a4'), request);
    await adapter().requestApproval(thread('a4'), request);
    const sent = (await sentMessages()).slice(before);
    // Two adapters (two worker processes) remember nothing of each other: SES has no idempotency key.
    expect(sent.length).toBeGreaterThanOrEqual(1);
    const mail = await PostalMime.parse(sent[0]!.raw_data);
    const code = emailApprovalCode('req-email-7', APPROVAL_SECRET);
    expect(mail.text).toContain(`APPROVE ${code}`);
    expect(mail.text).toContain(`DENY ${code}`);
    expect(mail.text).toContain('"customer": "ACME"');
    expect(parseEmailApprovalReply(`approve ${code.toLowerCase()}\n\nthanks`)).toEqual({ decision: 'approve', code });
    expect(parseEmailApprovalReply(`\nDENY ${code}`)).toEqual({ decision: 'deny', code });
    expect(parseEmailApprovalReply('I approve of this plan')).toBeUndefined();
    expect(emailApprovalCode('req-email-7', 'another-secret')).not.toBe(code);
  });

  it('refuses for good when SES refuses the sender', async () => {
    const failure = await adapter()
      .answer({ ...thread('a5'), from: 'assistant@unverified.example.net' }, 'turn-a5', 'hi')
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ type: 'EmailRefused', nonRetryable: true });
  });
});
