import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintReplyToken, type EmailThreadRecord } from '../../events/email-thread.ts';
import { APPROVAL_TOKEN_PURPOSE, inboundEventSchema, type InboundEvent } from '../../events/inbound-event.ts';
import { signToken } from '../../events/signed-token.ts';
import { createDispatchBatchHandler } from '../../functions/dispatch/dispatch-batch.ts';
import { routeEvent } from '../../functions/dispatch/route.ts';
import { createEmailBatchHandler } from '../../functions/email/email-batch.ts';
import type { SesMail, SesReceipt } from '../../functions/email/email-checks.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { createSlackPoster } from '../../functions/slack/slack-post.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createEmailThreadIndex } from '../../store/email-thread-index.ts';
import { createMemoryRecordFiles } from '../../store/record-files.ts';
import { createS3Store } from '../../store/s3-store.ts';
import { dispatchConfig } from '../dispatch/support.ts';
import { MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';
import { AGENT_ADDRESS, mime, receipt, sesMail, sesRecord, type MimeOptions } from '../../testkit/email-fixtures.ts';
import {
  APPROVAL_SECRET,
  REPLY_SECRET,
  createFifoQueue,
  emailConfig,
  form,
  queuedMessages,
  slackConfig,
  slackPost,
  motoEventQueue,
  sqsClient,
} from '../../testkit/ingress.ts';

/**
 * Hostile input against the real edges, each with the outcome it must have: refused (and why,
 * and for email at which stage: from SES's notification alone, before any download, or from
 * the message), or queued (and as what). Every email record goes through one SQS batch, so
 * the test also shows that nothing is retried: the batch reports no failure.
 */

const BUCKET = 'hostile-corpus';
const GRAY = { status: 'GRAY' };
const PASS = { status: 'PASS' };
const FAIL = { status: 'FAIL' };
/** SES's verdicts for mail whose SPF passed only for the envelope domain. */
const spfOnly = receipt({ spfVerdict: PASS, dkimVerdict: GRAY, dmarcVerdict: GRAY });
const sesResults = (value: string) => [{ name: 'Authentication-Results', value }];

const SEEDED_CONVERSATION = 'email:seed-root@mail.example.com';
const SEEDED_REPLY = 'reply.seed@agents.example.com';
const seeded: EmailThreadRecord = {
  version: 1,
  conversationId: SEEDED_CONVERSATION,
  agent: 'assistant',
  participants: ['ana@example.com'],
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
};
/** Another conversation: a FIFO queue hides a group's later messages while its first is in flight, and the test reads without deleting. */
const TOKEN_CONVERSATION = 'email:seed-token-root@mail.example.com';
const knownToken = mintReplyToken(REPLY_SECRET);
const unknownToken = mintReplyToken(REPLY_SECRET);
const forgedToken = `${knownToken.token.slice(0, 16)}${'a'.repeat(16)}`;

type Outcome = { rejected: string | RegExp; stage: 'notification' | 'message' | 'error' } | { queued: (event: InboundEvent) => void };

interface EmailCase {
  name: string;
  raw?: string | Uint8Array;
  mime?: MimeOptions;
  receipt?: SesReceipt;
  /** Changes to the `mail` object SES would send for the message. */
  mail?: (mail: SesMail) => SesMail;
  /** The record body itself, for records that are not SES notifications. */
  body?: string;
  expect: Outcome;
}

const id = (name: string) => `<${name}.${Math.random().toString(36).slice(2)}@mail.example.com>`;
const htmlPart = (html: string) => `Content-Type: text/html; charset=utf-8\r\n\r\n${html}`;
const withAttachment = (contentType: string, bytes: number) =>
  [
    'Content-Type: multipart/mixed; boundary="mix"',
    '',
    '--mix',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'see attached',
    '--mix',
    `Content-Type: ${contentType}`,
    'Content-Disposition: attachment; filename="../../etc/passwd"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.alloc(bytes, 7).toString('base64').replace(/.{76}/g, '$&\r\n'),
    '--mix--',
  ].join('\r\n');

const emailCases: EmailCase[] = [
  // Who sent it: the From domain must be authenticated, not just some domain.
  {
    name: "SPF passes for the attacker's own envelope domain, From forged",
    receipt: spfOnly,
    mail: (mail) => ({ ...mail, source: 'bounce@evil.net' }),
    expect: {
      rejected: 'From domain example.com is not authenticated: DMARC GRAY, SPF PASS for evil.net, DKIM GRAY',
      stage: 'notification',
    },
  },
  {
    name: 'SPF passes for a look-alike with a dash',
    receipt: spfOnly,
    mail: (mail) => ({ ...mail, source: 'x@evil-example.com' }),
    expect: { rejected: /^From domain example\.com is not authenticated/, stage: 'notification' },
  },
  {
    name: 'SPF passes for a look-alike suffix',
    receipt: spfOnly,
    mail: (mail) => ({ ...mail, source: 'x@example.com.evil.net' }),
    expect: { rejected: /^From domain example\.com is not authenticated/, stage: 'notification' },
  },
  {
    name: 'DKIM passes, but for another domain (SES says which)',
    receipt: receipt({ spfVerdict: FAIL, dkimVerdict: PASS, dmarcVerdict: GRAY }),
    mail: (mail) => ({
      ...mail,
      source: 'x@evil.net',
      headers: [
        ...sesResults('amazonses.com; spf=fail; dkim=pass header.i=@evil.net; dmarc=none header.from=example.com'),
        ...(mail.headers ?? []),
      ],
    }),
    expect: { rejected: /DKIM PASS for no aligned domain$/, stage: 'notification' },
  },
  {
    name: "DKIM passes for another domain, with a forged results header below SES's",
    receipt: receipt({ spfVerdict: FAIL, dkimVerdict: PASS, dmarcVerdict: GRAY }),
    mail: (mail) => ({
      ...mail,
      source: 'x@evil.net',
      headers: [
        ...sesResults('amazonses.com; dkim=pass header.i=@evil.net'),
        ...sesResults('amazonses.com; dkim=pass header.i=@example.com'),
        ...(mail.headers ?? []),
      ],
    }),
    expect: { rejected: /DKIM PASS for no aligned domain$/, stage: 'notification' },
  },
  {
    name: 'DMARC FAIL with a reject policy',
    receipt: receipt({ spfVerdict: PASS, dkimVerdict: FAIL, dmarcVerdict: FAIL, dmarcPolicy: 'reject' }),
    expect: { rejected: "DMARC verdict is FAIL (the domain's policy: reject)", stage: 'notification' },
  },
  {
    name: 'every verdict missing',
    receipt: { recipients: [AGENT_ADDRESS] },
    expect: { rejected: /^From domain example\.com is not authenticated: DMARC missing, SPF missing/, stage: 'notification' },
  },
  // The From header itself.
  {
    name: 'two From headers',
    mime: { extraHeaders: ['From: Mallory <mallory@evil.net>'] },
    expect: { rejected: 'message has 2 From headers, not one', stage: 'notification' },
  },
  {
    name: 'two addresses in one From',
    mime: { from: 'ana@example.com, mallory@evil.net' },
    expect: { rejected: 'From names 2 addresses, not one', stage: 'notification' },
  },
  {
    name: 'a From group',
    mime: { from: 'Team: ana@example.com;' },
    expect: { rejected: 'From is a group, not one address', stage: 'notification' },
  },
  {
    name: 'an empty From address',
    mime: { from: '<>' },
    expect: { rejected: /^From (is not a plain address|names 0 addresses, not one)$/, stage: 'notification' },
  },
  {
    name: 'an allowed address as display name over another address',
    mime: { from: '"ana@example.com" <mallory@evil.net>' },
    mail: (mail) => ({ ...mail, source: 'mallory@evil.net' }),
    expect: { rejected: 'sender mallory@evil.net is not in EMAIL_ALLOWED_SENDERS', stage: 'notification' },
  },
  {
    name: 'a look-alike of an allowed domain',
    mime: { from: 'x@evil-trusted.example' },
    mail: (mail) => ({ ...mail, source: 'x@evil-trusted.example' }),
    expect: { rejected: 'sender x@evil-trusted.example is not in EMAIL_ALLOWED_SENDERS', stage: 'notification' },
  },
  {
    name: 'a subdomain of an allowed domain',
    mime: { from: 'x@eu.trusted.example' },
    mail: (mail) => ({ ...mail, source: 'x@eu.trusted.example' }),
    expect: { rejected: 'sender x@eu.trusted.example is not in EMAIL_ALLOWED_SENDERS', stage: 'notification' },
  },
  {
    name: "the allowed domain as a prefix of the attacker's",
    mime: { from: 'x@trusted.example.evil.net' },
    mail: (mail) => ({ ...mail, source: 'x@trusted.example.evil.net' }),
    expect: { rejected: 'sender x@trusted.example.evil.net is not in EMAIL_ALLOWED_SENDERS', stage: 'notification' },
  },
  {
    name: 'the stored message names another From than SES notified',
    mail: (mail) => ({
      ...mail,
      headers: (mail.headers ?? []).map((header) => (header.name === 'From' ? { ...header, value: 'Ana <ana@example.com>' } : header)),
    }),
    mime: { from: 'Bob <bob@trusted.example>' },
    expect: { rejected: 'the stored message names another From than SES notified', stage: 'message' },
  },
  // Automatic mail is never answered.
  {
    name: 'an out-of-office reply',
    mime: { extraHeaders: ['Auto-Submitted: auto-replied'] },
    expect: { rejected: 'automatic mail is not answered: Auto-Submitted is auto-replied', stage: 'notification' },
  },
  {
    name: 'bulk mail',
    mime: { extraHeaders: ['Precedence: bulk'] },
    expect: { rejected: 'automatic mail is not answered: Precedence is bulk', stage: 'notification' },
  },
  {
    name: 'a mailing list',
    mime: { extraHeaders: ['List-Unsubscribe: <mailto:leave@lists.example.com>'] },
    expect: { rejected: 'automatic mail is not answered: mailing-list mail (List-Unsubscribe)', stage: 'notification' },
  },
  {
    name: 'an Exchange auto-reply',
    mime: { extraHeaders: ['X-Auto-Response-Suppress: OOF'] },
    expect: { rejected: 'automatic mail is not answered: X-Auto-Response-Suppress is set (oof)', stage: 'notification' },
  },
  {
    name: 'a bounce: null envelope sender and a delivery report',
    mime: {
      rawBodyPart:
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n--r--',
    },
    mail: (mail) => ({ ...mail, source: '' }),
    expect: { rejected: 'automatic mail is not answered: envelope sender is empty (a bounce or report)', stage: 'notification' },
  },
  {
    name: 'a bounce from MAILER-DAEMON',
    receipt: receipt(),
    mail: (mail) => ({ ...mail, source: 'MAILER-DAEMON@mx.example.com' }),
    expect: { rejected: 'automatic mail is not answered: envelope sender is mailer-daemon@mx.example.com', stage: 'notification' },
  },
  {
    name: 'a report whose headers SES cut short',
    mime: {
      rawBodyPart:
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="r"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nRead\r\n--r--',
    },
    mail: (mail) => ({ ...mail, headersTruncated: true, headers: [] }),
    expect: { rejected: 'automatic mail is not answered: message is a report (multipart/report)', stage: 'message' },
  },
  // Ids and sizes: cut or refused, never retried.
  {
    name: 'a Message-ID of 300 characters',
    mime: { messageId: `<${'m'.repeat(290)}@mail.example.com>` },
    expect: { rejected: 'Message-ID is 307 characters, over 250', stage: 'notification' },
  },
  {
    name: 'a Message-ID with spaces and non-ASCII',
    mime: { messageId: '<ünï code@mail.example.com>' },
    expect: { rejected: 'Message-ID holds spaces or characters outside printable ASCII', stage: 'notification' },
  },
  {
    name: 'a Message-ID longer than an SQS deduplication id (200 characters)',
    mime: { messageId: `<${'d'.repeat(183)}@mail.example.com>` },
    expect: { queued: (event) => expect(event.id).toBe(`email-message:${'d'.repeat(183)}@mail.example.com`) },
  },
  {
    name: 'an attachment with a malformed content type',
    mime: { rawBodyPart: withAttachment('application/pdf\u0001; name=x', 10) },
    expect: {
      queued: (event) =>
        expect(event.email!.attachments[0]).toMatchObject({
          contentType: 'application/octet-stream',
          filename: '.._.._etc_passwd',
          size: 10,
          ref: expect.stringMatching(/^sha256:/),
        }),
    },
  },
  {
    name: 'an attachment over the size limit',
    mime: { rawBodyPart: withAttachment('application/zip', 300 * 1024) },
    expect: {
      queued: (event) =>
        expect(event.email!.attachments[0]).toMatchObject({ size: 300 * 1024, omitted: 'over EMAIL_MAX_ATTACHMENT_BYTES=262144' }),
    },
  },
  {
    name: 'a 5,000-character subject',
    mime: { subject: 's'.repeat(5000) },
    expect: { queued: (event) => expect(event.email!.subject).toHaveLength(300) },
  },
  {
    name: '500 References',
    mime: { references: Array.from({ length: 500 }, (_, index) => `<ref${index}@mail.example.com>`).join(' ') },
    expect: { queued: (event) => expect(event.email!.references).toHaveLength(20) },
  },
  {
    name: 'a 1,000-character display name with direction overrides',
    mime: { from: `"${'\u202eA'.repeat(500)}" <ana@example.com>` },
    expect: { queued: (event) => expect(event.user.name).toBe('A'.repeat(100)) },
  },
  {
    name: '400 KB of hostile HTML (runs of <, unclosed comments)',
    mime: { rawBodyPart: htmlPart(`<p>hi</p>${'<'.repeat(200_000)}<!--${'<b'.repeat(100_000)}`) },
    expect: { queued: (event) => expect(event.text.startsWith('hi')).toBe(true) },
  },
  // Conversations belong to their people.
  {
    name: "a non-participant replying into someone else's thread",
    mime: {
      from: 'Bob <bob@trusted.example>',
      references: `<seed-root@mail.example.com> <${SEEDED_REPLY}>`,
      inReplyTo: `<${SEEDED_REPLY}>`,
    },
    mail: (mail) => ({ ...mail, source: 'bob@trusted.example' }),
    expect: { queued: (event) => expect(event.conversationId).toBe(`email:${event.email!.messageId}`) },
  },
  {
    name: 'a participant replying in the thread',
    mime: { references: `<seed-root@mail.example.com> <${SEEDED_REPLY}>`, inReplyTo: `<${SEEDED_REPLY}>` },
    expect: { queued: (event) => expect(event.conversationId).toBe(SEEDED_CONVERSATION) },
  },
  {
    name: 'a participant referencing only the root the sender wrote (not ours)',
    mime: { references: '<seed-root@mail.example.com>' },
    expect: { queued: (event) => expect(event.conversationId).toBe(`email:${event.email!.messageId}`) },
  },
  {
    name: 'a reply token with a forged MAC',
    receipt: receipt({ recipients: [`assistant+${forgedToken}@agents.example.com`] }),
    expect: { rejected: 'reply token rejected: reply token signature does not match', stage: 'notification' },
  },
  {
    name: 'a valid reply token nobody recorded',
    receipt: receipt({ recipients: [`assistant+${unknownToken.token}@agents.example.com`] }),
    expect: { queued: (event) => expect(event.conversationId).toBe(`email:${event.email!.messageId}`) },
  },
  {
    name: 'a known reply token, from another allowed person',
    mime: { from: 'bob@trusted.example' },
    mail: (mail) => ({ ...mail, source: 'bob@trusted.example' }),
    receipt: receipt({ recipients: [`assistant+${knownToken.token.toUpperCase()}@agents.example.com`] }),
    expect: { queued: (event) => expect(event.conversationId).toBe(TOKEN_CONVERSATION) },
  },
  {
    name: 'a recipient local part of 200 characters',
    receipt: receipt({ recipients: [`assistant+${'x'.repeat(200)}@agents.example.com`] }),
    expect: { rejected: 'reply token rejected: reply token is malformed', stage: 'notification' },
  },
  // Records that are not SES notifications at all.
  {
    name: 'an SNS envelope around something else',
    body: JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ notificationType: 'Bounce' }) }),
    expect: { rejected: /^record is not an SES receipt/, stage: 'error' },
  },
  {
    name: 'a notification whose header list is a bomb',
    body: JSON.stringify({
      notificationType: 'Received',
      mail: { messageId: 'x', headers: Array.from({ length: 3000 }, () => ({ name: 'X', value: 'y' })) },
      receipt: { recipients: [], action: { type: 'S3', bucketName: 'b', objectKey: 'k' } },
    }),
    expect: { rejected: /^record is not an SES receipt/, stage: 'error' },
  },
  // Valid mail that must get through.
  {
    name: 'ordinary mail with DMARC PASS',
    expect: { queued: (event) => expect(event.text).toBe('Please summarise the attached report.') },
  },
  {
    name: 'SPF aligned through a bounce subdomain, no DMARC record',
    receipt: spfOnly,
    mail: (mail) => ({ ...mail, source: 'bounces@mail.example.com' }),
    expect: { queued: (event) => expect(event.user.email).toBe('ana@example.com') },
  },
  {
    name: 'DKIM aligned as SES reports it, SPF for an ESP',
    receipt: receipt({ spfVerdict: PASS, dkimVerdict: PASS, dmarcVerdict: GRAY }),
    mail: (mail) => ({
      ...mail,
      source: 'x@esp.example.net',
      headers: [
        ...sesResults('amazonses.com; spf=pass; dkim=pass header.i=@example.com; dkim=pass header.i=@esp.example.net'),
        ...(mail.headers ?? []),
      ],
    }),
    expect: { queued: (event) => expect(event.kind).toBe('message') },
  },
  {
    name: 'Auto-Submitted: no is a person',
    mime: { extraHeaders: ['Auto-Submitted: no'] },
    expect: { queued: (event) => expect(event.kind).toBe('message') },
  },
];

let moto: MotoServer;
let sqs: SQSClient;
let s3: S3Client;
let slackApi: SlackApiServer;

beforeAll(async () => {
  moto = await startMoto();
  sqs = sqsClient(moto.endpoint);
  s3 = new S3Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  slackApi = await startSlackApiServer({ tokens: ['xoxb-corpus'], teamId: 'T0TEAM', botUserId: 'U0BOT', channels: ['C0GENERAL'] });
});
afterAll(async () => {
  sqs?.destroy();
  s3?.destroy();
  await slackApi?.close();
  await moto?.stop();
});

describe(`hostile email corpus (${emailCases.length} messages, one SQS batch)`, () => {
  it('refuses what it must, at the stage it can, queues the rest as what it is, and retries nothing', async () => {
    const queueUrl = await createFifoQueue(sqs, 'corpus-email');
    const threads = createEmailThreadIndex(createMemoryRecordFiles());
    await threads.putMessage(SEEDED_REPLY, seeded);
    await threads.putToken(knownToken.id, { ...seeded, conversationId: TOKEN_CONVERSATION });
    const logged: Record<string, unknown>[] = [];
    const store = createS3Store({ client: s3, bucket: BUCKET, prefix: 'transcripts/' });
    const handler = createEmailBatchHandler({
      config: emailConfig(queueUrl),
      s3,
      store,
      threads,
      queue: motoEventQueue(queueUrl),
      log: (line) => logged.push(line),
    });

    const records = await Promise.all(
      emailCases.map(async (emailCase, index) => {
        const sqsMessageId = `case-${index}`;
        if (emailCase.body) return { messageId: sqsMessageId, body: emailCase.body };
        const raw = emailCase.raw ?? mime({ messageId: id(`case${index}`), ...emailCase.mime });
        const key = `inbound/corpus-${index}`;
        // Mail that must be refused from the notification alone is never stored: a download would fail the test.
        const refusedEarly = 'rejected' in emailCase.expect && emailCase.expect.stage === 'notification';
        if (!refusedEarly) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: raw }));
        const mail = (emailCase.mail ?? ((same) => same))(sesMail(raw));
        return sesRecord({ bucket: BUCKET, key, raw, mail, receipt: emailCase.receipt ?? receipt(), sqsMessageId });
      }),
    );
    const started = performance.now();
    const response = await handler({ Records: records });
    const elapsed = performance.now() - started;
    expect(response.batchItemFailures).toEqual([]);
    expect(logged.filter((line) => line.msg === 'email failed, will retry')).toEqual([]);

    const queued = (await queuedMessages(sqs, queueUrl)).map((message) => ({
      event: inboundEventSchema.parse(message.body),
      groupId: message.groupId,
      deduplicationId: message.deduplicationId,
    }));
    for (const [index, emailCase] of emailCases.entries()) {
      const line = logged.find((entry) => entry.sqsMessageId === `case-${index}`);
      const outcome = emailCase.expect;
      if ('rejected' in outcome) {
        expect(line, emailCase.name).toMatchObject({ msg: 'email rejected', stage: outcome.stage });
        if (typeof outcome.rejected === 'string') expect(line!.reason, emailCase.name).toBe(outcome.rejected);
        else expect(line!.reason, emailCase.name).toMatch(outcome.rejected);
      } else {
        expect(line, emailCase.name).toMatchObject({ msg: 'email queued' });
        const found = queued.find((message) => message.event.id === line!.id);
        expect(found, emailCase.name).toBeDefined();
        outcome.queued(found!.event);
        expect(found!.groupId!.length).toBeLessThanOrEqual(128);
        expect(found!.deduplicationId!.length).toBeLessThanOrEqual(128);
      }
    }
    expect(queued).toHaveLength(emailCases.filter((emailCase) => 'queued' in emailCase.expect).length);
    // Hostile HTML and all: the batch is quick.
    expect(elapsed).toBeLessThan(30_000);
  });
});

interface SlackCase {
  name: string;
  path: string;
  body: string;
  form?: boolean;
  status: number;
  /** The 4xx error, the dropped reason, or the ephemeral text. */
  said?: string | RegExp;
  queued?: (event: InboundEvent) => void;
}

const event = (fields: Record<string, unknown>) =>
  JSON.stringify({
    type: 'event_callback',
    team_id: 'T0TEAM',
    authorizations: [{ user_id: 'U0BOT', is_bot: true }],
    event: { type: 'app_mention', user: 'U0ANA', channel: 'C0GENERAL', ts: '1712345678.000100', text: 'hi', ...fields },
  });
const command = (fields: Record<string, string>) =>
  form({
    team_id: 'T0TEAM',
    channel_id: 'C0GENERAL',
    user_id: 'U0ANA',
    user_name: 'ana',
    command: '/agent',
    text: 'hi',
    response_url: 'https://hooks.slack.com/c/1',
    trigger_id: `t.${Math.random()}`,
    ...fields,
  });
const click = (token: string) =>
  form({
    payload: JSON.stringify({
      type: 'block_actions',
      user: { id: 'U0ANA' },
      team: { id: 'T0TEAM' },
      channel: { id: 'C0GENERAL' },
      actions: [{ action_id: 'approval:approve', value: token }],
    }),
  });
/** A valid approval token whose MAC holds a `-` or `_`, so it has a base64 (`+`, `/`) spelling too. */
const approval = () => {
  for (let attempt = 0; ; attempt++) {
    const token = signToken({ requestId: `req-${attempt}`, conversationId: 'slack:T0TEAM:C0GENERAL:1712345678.000100' }, APPROVAL_SECRET, {
      purpose: APPROVAL_TOKEN_PURPOSE,
    });
    if (/[-_]/.test(token.split('.')[1] as string)) return token;
  }
};
const variant = (change: (body: string, mac: string) => string) => {
  const [body, mac] = approval().split('.') as [string, string];
  return change(body, mac);
};

const slackCases: SlackCase[] = [
  {
    name: "a 100,000-character mention is cut to Slack's 40,000",
    path: '/slack/events',
    body: event({ text: `<@U0BOT> ${'x'.repeat(100_000)}`, ts: '1712345678.000201' }),
    status: 200,
    queued: (queuedEvent) => expect(queuedEvent.text).toBe('x'.repeat(40_000 - '<@U0BOT> '.length)),
  },
  {
    name: 'a user id of 100 characters',
    path: '/slack/events',
    body: event({ user: 'U'.repeat(100) }),
    status: 400,
    said: 'event.user: expected a Slack id',
  },
  {
    name: 'a channel id that is a path',
    path: '/slack/events',
    body: event({ channel: '../C0GENERAL' }),
    status: 400,
    said: 'event.channel: expected a Slack id',
  },
  {
    name: 'a team id of 200 characters',
    path: '/slack/events',
    body: JSON.stringify({
      type: 'event_callback',
      team_id: 'T'.repeat(200),
      event: { type: 'app_mention', user: 'U0ANA', channel: 'C1', ts: '1.1', text: 'x' },
    }),
    status: 400,
    said: 'envelope.team_id: expected a Slack id',
  },
  {
    name: 'a thread_ts that is not a ts',
    path: '/slack/events',
    body: event({ thread_ts: 'slack:T0:C0:1' }),
    status: 400,
    said: 'event.thread_ts: expected a Slack ts such as 1712345678.000100',
  },
  {
    name: 'a bot message with our mention',
    path: '/slack/events',
    body: event({ bot_id: 'B0OTHER' }),
    status: 200,
    said: 'dropped: message from a bot',
  },
  {
    name: 'a command of 5,000 characters',
    path: '/slack/commands',
    form: true,
    body: command({ text: 'y'.repeat(5000) }),
    status: 200,
    said: /^That is 5000 characters; a command takes at most 4000/,
  },
  {
    name: 'a command name with shell characters',
    path: '/slack/commands',
    form: true,
    body: command({ command: '/agent;rm' }),
    status: 400,
    said: 'command.command: expected a command such as /agent',
  },
  {
    name: 'a trigger id of 300 characters',
    path: '/slack/commands',
    form: true,
    body: command({ trigger_id: 't'.repeat(300) }),
    status: 400,
    said: /^command\.trigger_id: /,
  },
  {
    name: 'a command in a channel the app is not in',
    path: '/slack/commands',
    form: true,
    body: command({ channel_id: 'C0PRIVATE' }),
    status: 200,
    said: /^I cannot post in this conversation/,
  },
  {
    name: 'a command whose user name and text try to notify everyone',
    path: '/slack/commands',
    form: true,
    body: command({ user_name: '<!channel>', text: '@here please' }),
    status: 200,
    queued: (queuedEvent) => {
      expect(slackApi.messages('C0GENERAL').find((message) => message.ts === queuedEvent.slack!.threadTs)!.text).toBe(
        '&lt;!channel&gt; asked with /agent: @\u2060here please',
      );
      // Dispatch answers it in the root message's thread: the conversation the person sees.
      const action = routeEvent(queuedEvent, dispatchConfig('agents'));
      expect(action.type === 'message' && action.start.channel).toEqual({
        kind: 'slack',
        teamId: 'T0TEAM',
        channelId: 'C0GENERAL',
        threadTs: queuedEvent.slack!.threadTs,
      });
      expect(queuedEvent.conversationId).toBe(`slack:T0TEAM:C0GENERAL:${queuedEvent.slack!.threadTs}`);
    },
  },
  {
    name: 'an approval token with base64 padding added',
    path: '/slack/interactivity',
    form: true,
    body: click(variant((body, mac) => `${body}.${mac}=`)),
    status: 400,
    said: 'approval token rejected: token is not in canonical base64url',
  },
  {
    name: 'an approval token in the base64 alphabet',
    path: '/slack/interactivity',
    form: true,
    body: click(variant((body, mac) => `${body}.${mac.replace(/-/g, '+').replace(/_/g, '/')}`)),
    status: 400,
    said: 'approval token rejected: token is not in canonical base64url',
  },
  {
    name: 'an approval token of 5,000 characters',
    path: '/slack/interactivity',
    form: true,
    body: click('a'.repeat(5000)),
    status: 400,
    said: 'approval token rejected: token is too long',
  },
];

describe(`hostile Slack corpus (${slackCases.length} requests)`, () => {
  it('answers each as it must and queues only what should be queued', async () => {
    const queueUrl = await createFifoQueue(sqs, 'corpus-slack');
    const app = createSlackApp({
      config: slackConfig(queueUrl),
      queue: motoEventQueue(queueUrl),
      postRootMessage: createSlackPoster({ token: 'xoxb-corpus', apiUrl: slackApi.url }),
      log: () => undefined,
    });
    let expectedQueued = 0;
    for (const slackCase of slackCases) {
      const response = await app.request(slackCase.path, slackPost(slackCase.body, { form: slackCase.form === true }));
      expect(response.status, slackCase.name).toBe(slackCase.status);
      if (slackCase.said !== undefined) {
        const answer = (await response.json()) as { error?: string; text?: string };
        // A 4xx names its reason; a 200 shows an ephemeral text to the person, or says in a header why it dropped the request.
        const said = slackCase.status !== 200 ? answer.error : (answer.text ?? response.headers.get('x-ingress-outcome'));
        if (typeof slackCase.said === 'string') expect(said, slackCase.name).toBe(slackCase.said);
        else expect(said, slackCase.name).toMatch(slackCase.said);
      }
      if (slackCase.queued) expectedQueued++;
    }
    const queued = (await queuedMessages(sqs, queueUrl)).map((message) => inboundEventSchema.parse(message.body));
    expect(queued).toHaveLength(expectedQueued);
    for (const slackCase of slackCases.filter((candidate) => candidate.queued)) {
      const match = queued.find((queuedEvent) =>
        slackCase.path === '/slack/commands' ? queuedEvent.id.startsWith('slack-command:') : queuedEvent.id.startsWith('slack-message:'),
      );
      slackCase.queued!(match!);
    }
  });
});

describe('records the dispatcher can never deliver are acknowledged, not retried', () => {
  it('drops an event whose ids are too long for Temporal without touching Temporal', async () => {
    const logged: Record<string, unknown>[] = [];
    const temporal = { get: () => Promise.reject(new Error('Temporal must not be asked')), connects: 0, close: async () => undefined };
    const handler = createDispatchBatchHandler({ config: dispatchConfig('agents'), temporal, log: (line) => logged.push(line) });
    const base = {
      version: 1,
      source: 'slack',
      kind: 'message',
      agent: 'assistant',
      receivedAt: new Date().toISOString(),
      user: { id: 'U0ANA' },
      text: 'hi',
      slack: { teamId: 'T0TEAM', channelId: 'C0GENERAL', threadTs: '1.1', ts: '1.1' },
    };
    const response = await handler({
      Records: [
        {
          messageId: 'long-conversation',
          body: JSON.stringify({ ...base, id: 'slack-message:x', conversationId: `slack:${'c'.repeat(1001)}` }),
        },
        {
          messageId: 'long-id',
          body: JSON.stringify({ ...base, id: `slack-message:${'é'.repeat(600)}`, conversationId: 'slack:T0TEAM:C0GENERAL:1.1' }),
        },
        {
          messageId: 'huge-text',
          body: JSON.stringify({ ...base, id: 'slack-message:y', conversationId: 'slack:T0TEAM:C0GENERAL:1.1', text: 'z'.repeat(300_000) }),
        },
      ],
    });
    expect(response.batchItemFailures).toEqual([]);
    expect(
      logged
        .filter((line) => line.msg === 'malformed record dropped')
        .map((line) => line.sqsMessageId)
        .sort(),
    ).toEqual(['huge-text', 'long-conversation', 'long-id']);
  });
});
