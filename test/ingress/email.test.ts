import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintReplyToken, type EmailThreadRecord } from '../../events/email-thread.ts';
import { inboundEventSchema, type InboundEvent } from '../../events/inbound-event.ts';
import { createEmailThreadIndex } from '../../store/email-thread-index.ts';
import { createMemoryRecordFiles } from '../../store/record-files.ts';
import { createS3Store } from '../../store/s3-store.ts';
import { createEmailBatchHandler } from '../../functions/email/email-batch.ts';
import type { Log } from '../../functions/shared/log.ts';
import { createMotoSecret, MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';
import { mime, receipt, sesRecord, type MimeOptions } from '../../testkit/email-fixtures.ts';
import {
  REPLY_SECRET,
  closedEndpoint,
  createFifoQueue,
  emailConfig,
  queueDepth,
  queuedMessages,
  motoEventQueue,
  sqsClient,
} from '../../testkit/ingress.ts';

const BUCKET = 'inbound-mail';

const newRequest: MimeOptions = {
  messageId: '<first.7f3a@mail.example.com>',
  subject: 'Quarterly numbers',
  rawBodyPart: [
    'Content-Type: multipart/mixed; boundary="mixed"',
    '',
    '--mixed',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Please summarise the attached report.',
    '',
    '--mixed',
    'Content-Type: application/pdf',
    'Content-Disposition: attachment; filename="q1-report.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('%PDF-1.4 fake report').toString('base64'),
    '--mixed--',
  ].join('\r\n'),
};

const replyInThread: MimeOptions = {
  messageId: '<second.91bc@mail.example.com>',
  subject: 'Re: Quarterly numbers',
  inReplyTo: '<agent-reply.1@agents.example.com>',
  references: '<first.7f3a@mail.example.com> <agent-reply.1@agents.example.com>',
  body: [
    'Thanks, and what about Q2?',
    '',
    'On Mon, 8 Apr 2024 at 10:05, Assistant <assistant@agents.example.com>',
    'wrote:',
    '> Q1 revenue was up 12%.',
    '> Costs were flat.',
  ].join('\r\n'),
};

const replyWithOnlyInReplyTo: MimeOptions = {
  messageId: '<third.aa01@mail.example.com>',
  subject: 'Re: Quarterly numbers',
  inReplyTo: '<first.7f3a@mail.example.com>',
  body: 'stop',
};

/** What the worker writes when it sends a reply (see worker/replies/email.ts). */
const threadRecord = (conversationId: string, participants = ['ana@example.com']): EmailThreadRecord => ({
  version: 1,
  conversationId,
  agent: 'assistant',
  participants,
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
});

let moto: MotoServer;
let sqs: SQSClient;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  sqs = sqsClient(moto.endpoint);
  s3 = new S3Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  sqs?.destroy();
  s3?.destroy();
  await moto?.stop();
});

let keys = 0;
async function stored(raw: string): Promise<string> {
  const key = `inbound/message-${++keys}`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: raw }));
  return key;
}

async function freshHandler(options: { sqsEndpoint?: string } = {}) {
  const queueUrl = await createFifoQueue(sqs, 'email');
  const logged: Record<string, unknown>[] = [];
  const log: Log = (line) => logged.push(line);
  const store = createS3Store({ client: s3, bucket: BUCKET, prefix: 'transcripts/' });
  const threads = createEmailThreadIndex(createMemoryRecordFiles());
  const handler = createEmailBatchHandler({
    config: emailConfig(queueUrl),
    s3,
    store,
    threads,
    queue: motoEventQueue(queueUrl, options.sqsEndpoint ? { endpoint: options.sqsEndpoint } : {}),
    log,
  });
  return { handler, queueUrl, logged, store, threads };
}

async function onlyEvent(queueUrl: string): Promise<{ event: InboundEvent; groupId?: string }> {
  const messages = await queuedMessages(sqs, queueUrl);
  expect(messages).toHaveLength(1);
  return { event: inboundEventSchema.parse(messages[0]?.body), groupId: messages[0]?.groupId };
}

describe('inbound email through S3, SNS and SQS', () => {
  it('queues a new request as a new conversation with its attachment listed', async () => {
    const { handler, queueUrl, logged, store } = await freshHandler();
    const key = await stored(mime(newRequest));
    const response = await handler({ Records: [sesRecord({ bucket: BUCKET, key })] });
    expect(response.batchItemFailures).toEqual([]);
    const { event, groupId } = await onlyEvent(queueUrl);
    expect(event).toMatchObject({
      source: 'email',
      kind: 'message',
      id: 'email-message:first.7f3a@mail.example.com',
      conversationId: 'email:first.7f3a@mail.example.com',
      agent: 'assistant',
      user: { id: 'ana@example.com', email: 'ana@example.com', name: 'Ana Example' },
      text: 'Please summarise the attached report.',
      email: {
        messageId: 'first.7f3a@mail.example.com',
        references: [],
        subject: 'Quarterly numbers',
        from: 'ana@example.com',
        to: ['assistant@agents.example.com'],
        rawS3Key: key,
        attachments: [{ filename: 'q1-report.pdf', contentType: 'application/pdf', size: 20 }],
      },
    });
    expect(groupId).toBe(event.conversationId);
    // The attachment's bytes went into the transcript store; the event carries their ref.
    const attachmentRef = event.email!.attachments[0]!.ref!;
    expect(attachmentRef).toMatch(/^sha256:[0-9a-f]{64}$/);
    const blob = await store.getBlob(attachmentRef);
    expect(blob.contentType).toBe('application/pdf');
    expect(blob.bytes.byteLength).toBe(20);
    const line = logged.find((entry) => entry.msg === 'email queued');
    expect(line).toMatchObject({ id: event.id, conversationId: event.conversationId, attachments: 1, s3Key: key });
    expect(JSON.stringify(logged)).not.toContain('summarise');
  });

  it('threads a reply to our reply, from a participant, into its conversation, and strips the quoted text', async () => {
    const { handler, queueUrl, threads } = await freshHandler();
    await threads.putMessage('agent-reply.1@agents.example.com', threadRecord('email:first.7f3a@mail.example.com'));
    const key = await stored(mime(replyInThread));
    await handler({ Records: [sesRecord({ bucket: BUCKET, key, raw: mime(replyInThread) })] });
    const { event, groupId } = await onlyEvent(queueUrl);
    expect(event.conversationId).toBe('email:first.7f3a@mail.example.com');
    expect(groupId).toBe('email:first.7f3a@mail.example.com');
    expect(event.text).toBe('Thanks, and what about Q2?');
    expect(event.email).toMatchObject({
      inReplyTo: 'agent-reply.1@agents.example.com',
      references: ['first.7f3a@mail.example.com', 'agent-reply.1@agents.example.com'],
    });
  });

  it('threads by In-Reply-To when there is no References header, and reads "stop" as a stop', async () => {
    const { handler, queueUrl, threads } = await freshHandler();
    await threads.putMessage('first.7f3a@mail.example.com', threadRecord('email:first.7f3a@mail.example.com'));
    const key = await stored(mime(replyWithOnlyInReplyTo));
    await handler({ Records: [sesRecord({ bucket: BUCKET, key, raw: mime(replyWithOnlyInReplyTo) })] });
    const { event } = await onlyEvent(queueUrl);
    expect(event).toMatchObject({ kind: 'stop', conversationId: 'email:first.7f3a@mail.example.com' });
  });

  it('lets a reply token pick the conversation over the headers', async () => {
    const { handler, queueUrl, threads } = await freshHandler();
    const conversationId = 'email:elsewhere.1@mail.example.com';
    const { token, id } = mintReplyToken(REPLY_SECRET);
    await threads.putToken(id, threadRecord(conversationId));
    const recipient = `research+${token}@agents.example.com`;
    const raw = mime({ ...replyInThread, messageId: '<fourth@mail.example.com>', to: recipient });
    const key = await stored(raw);
    await handler({ Records: [sesRecord({ bucket: BUCKET, key, raw, receipt: receipt({ recipients: [recipient] }) })] });
    const { event, groupId } = await onlyEvent(queueUrl);
    expect(event).toMatchObject({ agent: 'research', conversationId, email: { replyToken: token } });
    expect(groupId).toBe(conversationId);
  });

  it('stores a message once when SQS delivers the notification twice', async () => {
    const { handler, queueUrl } = await freshHandler();
    const raw = mime({ ...newRequest, messageId: '<twice@mail.example.com>' });
    const key = await stored(raw);
    await handler({ Records: [sesRecord({ bucket: BUCKET, key, raw }), sesRecord({ bucket: BUCKET, key, raw })] });
    await handler({ Records: [sesRecord({ bucket: BUCKET, key, raw })] });
    await onlyEvent(queueUrl);
  });

  it('drops and logs mail whose verdicts fail, without retrying it', async () => {
    const { handler, queueUrl, logged } = await freshHandler();
    const key = await stored(mime({ messageId: '<spam@mail.example.com>' }));
    const records = [
      sesRecord({ bucket: BUCKET, key, receipt: receipt({ spamVerdict: { status: 'FAIL' } }), sqsMessageId: 'spam' }),
      sesRecord({ bucket: BUCKET, key, receipt: receipt({ virusVerdict: { status: 'FAIL' } }), sqsMessageId: 'virus' }),
      sesRecord({
        bucket: BUCKET,
        key,
        receipt: receipt({ spfVerdict: { status: 'FAIL' }, dkimVerdict: { status: 'FAIL' }, dmarcVerdict: { status: 'GRAY' } }),
        sqsMessageId: 'unauthenticated',
      }),
    ];
    const response = await handler({ Records: records });
    expect(response.batchItemFailures).toEqual([]);
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
    const rejected = logged.filter((entry) => entry.msg === 'email rejected');
    // Records are handled concurrently: the log's order is not the batch's.
    expect(rejected.map((entry) => [entry.sqsMessageId, entry.reason]).sort()).toEqual([
      ['spam', 'spam verdict is FAIL'],
      ['unauthenticated', 'From domain example.com is not authenticated: DMARC GRAY, SPF FAIL for example.com, DKIM FAIL'],
      ['virus', 'virus verdict is FAIL'],
    ]);
    expect(rejected[0]).toMatchObject({ s3Key: key, stage: 'notification' });
  });

  it('reports only the records that hit a transient failure', async () => {
    const { handler, logged } = await freshHandler({ sqsEndpoint: await closedEndpoint() });
    const key = await stored(mime({ messageId: '<transient@mail.example.com>' }));
    const response = await handler({
      Records: [
        sesRecord({ bucket: BUCKET, key, sqsMessageId: 'queue-down' }),
        sesRecord({ bucket: 'no-such-bucket', key, sqsMessageId: 's3-bucket-missing' }),
        sesRecord({ bucket: BUCKET, key: 'inbound/never-stored', sqsMessageId: 'object-missing' }),
        { messageId: 'not-json', body: '<html>' },
      ],
    });
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['queue-down', 's3-bucket-missing']);
    expect(
      logged
        .filter((entry) => entry.msg === 'email rejected')
        .map((entry) => entry.sqsMessageId)
        .sort(),
    ).toEqual(['not-json', 'object-missing']);
  });

  it('runs from the Lambda entry file, configured by the environment', async () => {
    const queueUrl = await createFifoQueue(sqs, 'entry');
    Object.assign(process.env, {
      INGRESS_QUEUE_URL: queueUrl,
      EMAIL_ALLOWED_SENDERS: '@example.com',
      // In AWS the function reads the secret from Secrets Manager (here moto's, through AWS_ENDPOINT_URL) at cold start.
      EMAIL_REPLY_TOKEN_SECRET_ARN: await createMotoSecret(moto.endpoint, REPLY_SECRET),
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    });
    const { handler } = await import('../../functions/email/handler.ts');
    const key = await stored(mime({ ...newRequest, messageId: '<entry@mail.example.com>' }));
    const response = await handler({ Records: [sesRecord({ bucket: BUCKET, key })] });
    expect(response.batchItemFailures).toEqual([]);
    const { event } = await onlyEvent(queueUrl);
    expect(event.conversationId).toBe('email:entry@mail.example.com');
  });
});
