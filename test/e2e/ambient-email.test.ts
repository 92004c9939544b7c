import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { SQSClient } from '@aws-sdk/client-sqs';
import PostalMime, { type Email } from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import type { Content } from '../../core/spec.ts';
import { createDispatchBatchHandler } from '../../functions/dispatch/dispatch-batch.ts';
import { createTemporalClientProvider } from '../../functions/dispatch/temporal-client.ts';
import { createEmailBatchHandler } from '../../functions/email/email-batch.ts';
import { silentLog } from '../../functions/shared/log.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import { pollQueue } from '../../local/poll-queue.ts';
import { createEmailThreadIndex } from '../../store/email-thread-index.ts';
import { createMemoryRecordFiles } from '../../store/record-files.ts';
import { createEmailReplyAdapter } from '../../worker/replies/email.ts';
import { runAmbient, textsOf } from '../ambient/runs-support.ts';
import { dispatchConfig } from '../dispatch/support.ts';
import { mime, receipt, sesRecord } from '../../testkit/email-fixtures.ts';
import { APPROVAL_SECRET, REPLY_SECRET, createFifoQueue, emailConfig, motoEventQueue, sqsClient } from '../../testkit/ingress.ts';
import { MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';

/**
 * Ambient runs that deliver by email, end to end: the run mails its finding from the agent's
 * own address on the configured domain; a reply continues it as a conversation over the run's
 * transcript; and a run whose tool needs approval asks the trigger's approver by email, whose
 * "APPROVE <code>" reply lets the call run.
 */

const BUCKET = 'ambient-mail-e2e';
const DOMAIN = 'agents.example.com';
const paged: string[] = [];
const pageOnCall = defineTool({
  name: 'page_oncall',
  description: 'Pages the person on call.',
  input: z.object({ message: z.string().describe('What to tell them.') }),
  approval: true,
  handler: ({ message }) => {
    paged.push(message);
    return { paged: true };
  },
});
const watcher = defineAgent({
  name: 'watcher',
  instructions: 'Report storms; page on call when told to.',
  tools: [pageOnCall],
  triggers: [
    { id: 'storms', every: '1 hour', prompt: 'Any storms?', deliver: { kind: 'email', to: ['ana@example.com'] } },
    {
      id: 'paging',
      every: '1 hour',
      prompt: 'Page on call about the storm.',
      deliver: { kind: 'email', to: ['ana@example.com'] },
      approvers: ['ana@example.com'],
    },
  ],
});

function respond(request: GeminiRequest) {
  const contents = request.body.contents as Content[];
  const response = contents.at(-1)!.parts.find((part) => part.functionResponse)?.functionResponse;
  if (response) return answer(`Paged on call: ${JSON.stringify(response.response)}`);
  const user = textsOf(request, 'user');
  const last = user.at(-1) ?? '';
  if (last.startsWith('[Scheduled run of trigger "storms"')) return answer('Storm warning for the Bay Area.');
  if (last.startsWith('[Scheduled run of trigger "paging"'))
    return callTools({ name: 'page_oncall', args: { message: 'Storm over the Bay Area.' } });
  return answer(`Answer to: ${last.trim()}`);
}

describe.skipIf(noTemporal)('ambient runs by email, end to end', () => {
  const temporal = useTemporal();
  let moto: MotoServer;
  let sqs: SQSClient;
  let s3: S3Client;
  let ses: SESv2Client;
  let model: GeminiServer;
  let taskQueue: string;
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
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: DOMAIN }));
    model = await startScriptedModel(respond);
    const queueUrl = await createFifoQueue(sqs, 'e2e-ambient-email');
    const threads = createEmailThreadIndex(createMemoryRecordFiles());
    receiveEmail = createEmailBatchHandler({ config: emailConfig(queueUrl), s3, threads, queue: motoEventQueue(queueUrl), log: silentLog });
    taskQueue = temporal.taskQueue('e2e-ambient-email');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [watcher],
      modelUrl: model.url,
      agentEmailDomain: DOMAIN,
      replyAdapters: { email: createEmailReplyAdapter({ ses, replyTokenSecret: REPLY_SECRET, approvalSecret: APPROVAL_SECRET, threads }) },
    });
    const handler = createDispatchBatchHandler({
      config: dispatchConfig(taskQueue, { EMAIL_AGENT_DOMAIN: DOMAIN }),
      temporal: temporalProvider,
      log: silentLog,
    });
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

  async function deliverInbound(raw: string, recipients: string[]): Promise<void> {
    const key = `inbound/${crypto.randomUUID()}`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: raw }));
    const result = await receiveEmail({ Records: [sesRecord({ bucket: BUCKET, key, raw, receipt: receipt({ recipients }) })] });
    expect(result.batchItemFailures).toEqual([]);
  }

  async function sent(): Promise<Email[]> {
    const data = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as { ses: { RawMessage: { raw_data: string }[] } };
    return Promise.all(data.ses.RawMessage.map((message) => PostalMime.parse(message.raw_data)));
  }

  const watcherTrigger = (id: string) => watcher.triggers.find((trigger) => trigger.id === id)!;

  it('mails its finding from the agent address, and a reply continues it as a conversation', async () => {
    const before = (await sent()).length;
    const { result } = await runAmbient(temporal.client, taskQueue, { agent: 'watcher', trigger: watcherTrigger('storms') });
    expect(result).toMatchObject({ outcome: 'posted', posted: { kind: 'email' } });
    const post = (await sent())[before]!;
    expect(post.from?.address).toBe(`watcher@${DOMAIN}`);
    expect(post.to?.map((address) => address.address)).toEqual(['ana@example.com']);
    expect(post.text?.trim()).toBe('Storm warning for the Bay Area.');
    const replyTo = post.replyTo?.[0]?.address ?? '';
    expect(replyTo).toMatch(new RegExp(`^watcher\\+[a-z2-7]{32}@${DOMAIN.replaceAll('.', '\\.')}$`));

    await deliverInbound(
      mime({
        messageId: `<re-${crypto.randomUUID()}@mail.example.com>`,
        to: replyTo,
        subject: `Re: ${post.subject}`,
        inReplyTo: post.messageId,
        references: post.messageId,
        body: 'How bad is it?',
      }),
      [replyTo],
    );
    await expect.poll(async () => (await sent()).length, { timeout: 30_000, interval: 250 }).toBe(before + 2);
    const answer = (await sent())[before + 1]!;
    expect(answer.from?.address).toBe(`watcher@${DOMAIN}`);
    expect(answer.text?.trim()).toBe('Answer to: How bad is it?');
    // The reply's turn sees the run's prompt and its finding: the conversation continues the run.
    const turn = model.requests.find((request) => textsOf(request, 'user').includes('How bad is it?'))!;
    expect(textsOf(turn, 'model').join('\n')).toContain('Storm warning for the Bay Area.');
  });

  it("asks the trigger's approver by email, and an APPROVE reply lets the call run", async () => {
    const before = (await sent()).length;
    const running = runAmbient(temporal.client, taskQueue, { agent: 'watcher', trigger: watcherTrigger('paging') });
    await expect.poll(async () => (await sent()).length, { timeout: 30_000, interval: 250 }).toBe(before + 1);
    const request = (await sent())[before]!;
    expect(request.from?.address).toBe(`watcher@${DOMAIN}`);
    expect(request.text).toContain('page_oncall');
    expect(request.text).toContain('"message": "Storm over the Bay Area."');
    const code = /APPROVE ([A-Z2-9]{8})/.exec(request.text ?? '')![1]!;
    expect(paged).toEqual([]);

    const replyTo = request.replyTo?.[0]?.address ?? '';
    await deliverInbound(
      mime({
        messageId: `<ok-${crypto.randomUUID()}@mail.example.com>`,
        to: replyTo,
        subject: `Re: ${request.subject}`,
        inReplyTo: request.messageId,
        references: request.messageId,
        body: `APPROVE ${code}`,
      }),
      [replyTo],
    );
    const { result } = await running;
    expect(paged).toEqual(['Storm over the Bay Area.']);
    expect(result).toMatchObject({ outcome: 'posted' });
    const posted = (await sent()).at(-1)!;
    expect(posted.text).toContain('Paged on call');
  });
});
