import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { SQSClient } from '@aws-sdk/client-sqs';
import PostalMime, { type Email } from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../authoring/define-agent.ts';
import type { Content } from '../../core/spec.ts';
import { createDispatchBatchHandler } from '../../functions/dispatch/dispatch-batch.ts';
import { pollQueue } from '../../local/poll-queue.ts';
import { createTemporalClientProvider } from '../../functions/dispatch/temporal-client.ts';
import { createEmailBatchHandler } from '../../functions/email/email-batch.ts';
import { silentLog } from '../../functions/shared/log.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import { createEmailThreadIndex } from '../../store/email-thread-index.ts';
import { createMemoryRecordFiles } from '../../store/record-files.ts';
import { createEmailReplyAdapter } from '../../worker/replies/email.ts';
import { dispatchConfig } from '../dispatch/support.ts';
import { AGENT_ADDRESS, mime, receipt, sesRecord } from '../../testkit/email-fixtures.ts';
import { APPROVAL_SECRET, REPLY_SECRET, createFifoQueue, emailConfig, motoEventQueue, sqsClient } from '../../testkit/ingress.ts';
import { MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';
import { answer, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';

const BUCKET = 'inbound-mail-e2e';
const assistant = defineAgent({ name: 'assistant', instructions: 'Be brief.', tools: [], limits: { maxSteps: 2 } });

function respond(request: GeminiRequest) {
  const contents = request.body.contents as Content[];
  const question =
    [...contents]
      .reverse()
      .find((content) => content.role === 'user')
      ?.parts.find((part) => part.text)?.text ?? '';
  return answer(`Answer to: ${question.trim()}`);
}

describe.skipIf(noTemporal)('email thread end to end: SES → S3 → ingress → SQS → dispatch → Temporal → worker → SES', () => {
  const temporal = useTemporal();
  let moto: MotoServer;
  let sqs: SQSClient;
  let s3: S3Client;
  let ses: SESv2Client;
  let model: GeminiServer;
  let receiveEmail: ReturnType<typeof createEmailBatchHandler>;
  const stopDispatch = new AbortController();
  let dispatching: Promise<void>;
  const temporalProvider = createTemporalClientProvider({ env: { TEMPORAL_ADDRESS: temporalAddress }, connectTimeoutMs: 2000 });

  beforeAll(async () => {
    moto = await startMoto();
    const aws = { ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint };
    sqs = sqsClient(moto.endpoint);
    s3 = new S3Client({ ...aws, forcePathStyle: true });
    ses = new SESv2Client(aws);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'agents.example.com' }));
    model = await startScriptedModel(respond);
    const queueUrl = await createFifoQueue(sqs, 'e2e-email');
    // The worker writes who may continue each thread; the email edge reads it.
    const threads = createEmailThreadIndex(createMemoryRecordFiles());
    receiveEmail = createEmailBatchHandler({ config: emailConfig(queueUrl), s3, threads, queue: motoEventQueue(queueUrl), log: silentLog });

    const taskQueue = temporal.taskQueue('e2e-email');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [assistant],
      modelUrl: model.url,
      replyAdapters: { email: createEmailReplyAdapter({ ses, replyTokenSecret: REPLY_SECRET, approvalSecret: APPROVAL_SECRET, threads }) },
    });
    const handler = createDispatchBatchHandler({ config: dispatchConfig(taskQueue), temporal: temporalProvider, log: silentLog });
    dispatching = pollQueue({ sqs, queueUrl, handler, signal: stopDispatch.signal, waitTimeSeconds: 1, log: silentLog });
  });
  afterAll(async () => {
    stopDispatch.abort();
    await dispatching?.catch(() => undefined);
    await temporalProvider.close();
    await model?.close();
    for (const client of [sqs, s3, ses]) client?.destroy();
    await moto?.stop();
  });

  /** SES receiving a message: the raw MIME into S3, the notification through SNS/SQS to the email Lambda. */
  async function deliverInbound(raw: string, recipients = [AGENT_ADDRESS]): Promise<void> {
    const key = `inbound/${crypto.randomUUID()}`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: raw }));
    const result = await receiveEmail({ Records: [sesRecord({ bucket: BUCKET, key, raw, receipt: receipt({ recipients }) })] });
    expect(result.batchItemFailures).toEqual([]);
  }

  async function sentReplies(): Promise<Email[]> {
    const data = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as { ses: { RawMessage: { raw_data: string }[] } };
    return Promise.all(data.ses.RawMessage.map((message) => PostalMime.parse(message.raw_data)));
  }

  it('answers an email in its thread, once though SES notifies twice, and a reply to the Reply-To continues the conversation', async () => {
    const rootId = `<root-${crypto.randomUUID()}@mail.example.com>`;
    const first = mime({ messageId: rootId, subject: 'Launch plan', body: 'When is the launch?' });
    await deliverInbound(first);
    await deliverInbound(first);

    await expect.poll(async () => (await sentReplies()).length, { timeout: 30_000, interval: 250 }).toBe(1);
    const [reply] = await sentReplies();
    expect(reply!.subject).toBe('Re: Launch plan');
    expect(reply!.inReplyTo).toBe(rootId);
    expect(reply!.references).toBe(rootId);
    expect(reply!.from?.address).toBe(AGENT_ADDRESS);
    expect(reply!.to?.map((address) => address.address)).toEqual(['ana@example.com']);
    expect(reply!.text?.trim()).toBe('Answer to: When is the launch?');
    const replyTo = reply!.replyTo?.[0]?.address ?? '';
    expect(replyTo).toMatch(/^assistant\+[a-z2-7]{32}@agents\.example\.com$/);

    // Ana answers the reply; her client keeps the threading headers and quotes the answer.
    const secondId = `<second-${crypto.randomUUID()}@mail.example.com>`;
    await deliverInbound(
      mime({
        messageId: secondId,
        to: replyTo,
        subject: 'Re: Launch plan',
        inReplyTo: reply!.messageId,
        references: `${rootId} ${reply!.messageId}`,
        body: 'And where?\r\n\r\nOn Monday, assistant wrote:\r\n> Answer to: When is the launch?',
      }),
      [replyTo],
    );
    await expect.poll(async () => (await sentReplies()).length, { timeout: 30_000, interval: 250 }).toBe(2);
    const second = (await sentReplies())[1]!;
    expect(second.subject).toBe('Re: Launch plan');
    expect(second.inReplyTo).toBe(secondId);
    expect(second.references).toBe(`${rootId} ${reply!.messageId} ${secondId}`);
    expect(second.text?.trim()).toBe('Answer to: And where?');

    // One conversation, two turns: the second run saw the first question in its transcript.
    const lastRequest = model.requests.at(-1)!;
    expect(JSON.stringify(lastRequest.body.contents)).toContain('When is the launch?');
    expect(model.requests).toHaveLength(2);
  });
});
