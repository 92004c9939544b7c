import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CURRENT_STEP_QUERY, PENDING_APPROVALS_QUERY, type CurrentStep, type PendingApproval } from '../../core/conversation.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatchBatchHandler } from '../../functions/dispatch/dispatch-batch.ts';
import { createTemporalClientProvider, type TemporalClientProvider } from '../../functions/dispatch/temporal-client.ts';
import { createSecretsManagerReader } from '../../functions/shared/secrets.ts';
import { emailApprovalCode } from '../../events/email-approval.ts';
import { MOTO_CLIENT_CONFIG, freePort, startMoto, type MotoServer } from '../../testkit/moto.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';
import {
  APPROVAL_SECRET,
  dispatchConfig,
  emailMessageEvent,
  slackApprovalEvent,
  sentInvoices,
  slackMessageEvent,
  sqsRecord,
  startConversationWorker,
  switchablePort,
  waitForTurn,
  type RecordedReply,
} from './support.ts';

describe.skipIf(noTemporal)('dispatch: SQS batch → update-with-start on the conversation workflow', () => {
  const temporal = useTemporal();
  const providers: TemporalClientProvider[] = [];
  const stops: (() => Promise<void>)[] = [];
  let taskQueue: string;
  let moto: MotoServer;
  let model: GeminiServer;
  let replies: RecordedReply[];

  beforeAll(async () => {
    taskQueue = temporal.taskQueue('dispatch');
    ({ model, replies } = await startConversationWorker(temporal, taskQueue));
    moto = await startMoto();
  }, 120_000);
  afterAll(async () => {
    for (const provider of providers) await provider.close();
    for (const stop of stops) await stop();
    await model?.close();
    await moto?.stop();
  });

  function provider(address = temporalAddress, options: Partial<Parameters<typeof createTemporalClientProvider>[0]> = {}) {
    const created = createTemporalClientProvider({ env: { TEMPORAL_ADDRESS: address }, connectTimeoutMs: 1500, ...options });
    providers.push(created);
    return created;
  }

  function dispatcher(temporalProvider: TemporalClientProvider = provider(), overrides: Parameters<typeof dispatchConfig>[1] = {}) {
    const logs: Record<string, unknown>[] = [];
    const handler = createDispatchBatchHandler({
      config: dispatchConfig(taskQueue, overrides),
      temporal: temporalProvider,
      log: (fields) => logs.push(fields),
    });
    return { handler, logs };
  }

  const messageIdsOf = async (conversationId: string, turn: number) =>
    (await waitForTurn(temporal.client, conversationId, turn)).flatMap((summary) => summary.messageIds);
  const answersIn = (conversationId: string) =>
    replies.filter((reply) => reply.method === 'answer' && reply.key?.startsWith(`${conversationId}#`));

  async function pendingRequest(conversationId: string): Promise<PendingApproval> {
    let pending: PendingApproval[] = [];
    await expect
      .poll(
        async () =>
          (pending = await temporal.client.workflow.getHandle(conversationId).query<PendingApproval[]>(PENDING_APPROVALS_QUERY)).length,
        { timeout: 20_000, interval: 100 },
      )
      .toBe(1);
    return pending[0]!;
  }

  it('starts a conversation per thread and delivers each message once, with the reply channel of its source', async () => {
    const { handler, logs } = dispatcher();
    const first = slackMessageEvent({ text: 'first' });
    const second = slackMessageEvent({ threadTs: first.slack!.threadTs!, text: 'second' });
    const email = emailMessageEvent({ messageId: `m-${crypto.randomUUID()}@mail.example.com`, subject: 'Launch date' });

    const response = await handler({ Records: [sqsRecord(first), sqsRecord(second), sqsRecord(email)] });
    expect(response.batchItemFailures).toEqual([]);

    // Both messages reach the thread's conversation, in order (the second may join the first's turn).
    const turns = await waitForTurn(temporal.client, first.conversationId, 1);
    const lastTurn = turns.at(-1)!.turn;
    expect(await messageIdsOf(first.conversationId, lastTurn)).toEqual([first.id, second.id]);
    // Each turn answers to the person who asked it: in a channel, Slack streams only to a named recipient.
    const slackChannel = {
      kind: 'slack',
      teamId: 'T0TEAM',
      channelId: 'C0GENERAL',
      threadTs: first.slack!.threadTs,
      recipientUserId: 'U0ANA',
    };
    await expect
      .poll(() => answersIn(first.conversationId).map((reply) => reply.channel), { timeout: 10_000 })
      .toEqual(Array(lastTurn).fill(slackChannel));

    await waitForTurn(temporal.client, email.conversationId, 1);
    const root = email.email!.messageId;
    await expect
      .poll(() => answersIn(email.conversationId), { timeout: 10_000 })
      .toEqual([
        {
          method: 'answer',
          key: `${email.conversationId}#1`,
          text: 'You said: What is the launch date?',
          channel: {
            kind: 'email',
            from: 'assistant@agents.example.com',
            to: ['ana@example.com'],
            subject: 'Launch date',
            inReplyTo: root,
            references: [root],
          },
        },
      ]);
    expect(logs.filter((line) => line.msg === 'delivered')).toHaveLength(3);
  });

  it('lands the same event once however often SQS delivers it', async () => {
    const { handler, logs } = dispatcher();
    const event = slackMessageEvent({ text: 'only once' });
    for (let delivery = 0; delivery < 3; delivery++) {
      expect((await handler({ Records: [sqsRecord(event)] })).batchItemFailures).toEqual([]);
    }
    // Twice in one batch too (a redrive can do that).
    expect((await handler({ Records: [sqsRecord(event), sqsRecord(event)] })).batchItemFailures).toEqual([]);
    const turns = await waitForTurn(temporal.client, event.conversationId, 1);
    expect(turns.map((turn) => turn.messageIds)).toEqual([[event.id]]);
    expect(logs.filter((line) => line.msg === 'delivered')).toHaveLength(5);
    await expect.poll(() => answersIn(event.conversationId).length, { timeout: 10_000 }).toBe(1);
    expect(model.requests.filter((request) => JSON.stringify(request.body.contents).includes(event.text))).toHaveLength(1);
  });

  it('turns approval clicks into decideApproval after checking the token again', async () => {
    const { handler, logs } = dispatcher();
    const message = slackMessageEvent({ text: 'invoice ACME please' });
    await handler({ Records: [sqsRecord(message)] });
    const conversationId = message.conversationId;
    const { requestId } = await pendingRequest(conversationId);

    const forged = slackApprovalEvent(conversationId, requestId, { secret: 'someone-elses-secret' });
    const elsewhere = slackApprovalEvent(conversationId, requestId, { tokenConversation: 'slack:T0TEAM:C0OTHER:1.1' });
    const notAnApprover = slackApprovalEvent(conversationId, requestId, { approver: 'U0MALLORY' });
    const unknownRequest = slackApprovalEvent(conversationId, 'req-never-asked');
    expect(
      (await handler({ Records: [sqsRecord(forged), sqsRecord(elsewhere), sqsRecord(notAnApprover), sqsRecord(unknownRequest)] }))
        .batchItemFailures,
    ).toEqual([]);
    expect(logs.filter((line) => line.msg === 'undeliverable event dropped').map((line) => line.reason)).toEqual([
      'approval token rejected: token signature does not match',
      'approval token names another request or conversation than the event',
    ]);
    expect(logs.filter((line) => line.msg === 'conversation refused event').map((line) => [line.update, line.id])).toEqual([
      ['decideApproval', notAnApprover.id],
      ['decideApproval', unknownRequest.id],
    ]);
    expect(sentInvoices).toEqual([]);

    const approve = slackApprovalEvent(conversationId, requestId);
    // A double click arrives twice; it decides once.
    expect((await handler({ Records: [sqsRecord(approve)] })).batchItemFailures).toEqual([]);
    expect((await handler({ Records: [sqsRecord(approve)] })).batchItemFailures).toEqual([]);
    await waitForTurn(temporal.client, conversationId, 1);
    expect(sentInvoices).toEqual([{ customer: 'ACME', amount: 1200 }]);
    await expect.poll(() => answersIn(conversationId).map((reply) => reply.text), { timeout: 10_000 }).toEqual(['Done: send_invoice.']);

    // An approval for a conversation that does not exist is acknowledged, not retried, and starts nothing.
    const orphan = slackApprovalEvent('slack:T0TEAM:C0GENERAL:999.000001', requestId);
    expect((await handler({ Records: [sqsRecord(orphan)] })).batchItemFailures).toEqual([]);
    expect(logs.at(-1)).toMatchObject({ msg: 'conversation refused event', update: 'decideApproval' });
    await expect(temporal.client.workflow.getHandle(orphan.conversationId).describe()).rejects.toThrow(/not found/i);
  });

  it('turns "stop" into the stop update, which ends the running turn', async () => {
    const { handler, logs } = dispatcher();
    const message = slackMessageEvent({ text: 'wait for the rollout' });
    await handler({ Records: [sqsRecord(message)] });
    const handle = temporal.client.workflow.getHandle(message.conversationId);
    await expect
      .poll(async () => (await handle.query<CurrentStep>(CURRENT_STEP_QUERY)).state, { timeout: 20_000, interval: 100 })
      .toBe('tool');

    const stop = { ...slackMessageEvent({ threadTs: message.slack!.threadTs!, text: 'stop' }), kind: 'stop' as const };
    expect((await handler({ Records: [sqsRecord(stop)] })).batchItemFailures).toEqual([]);
    await waitForTurn(temporal.client, message.conversationId, 1, 'stopped');
    expect(logs.at(-1)).toMatchObject({ msg: 'delivered', update: 'stop', id: stop.id });
    // The log line is a CloudWatch metric too (Embedded Metric Format): Deliveries by Outcome.
    expect(logs.at(-1)).toMatchObject({
      Outcome: 'delivered',
      Deliveries: 1,
      _aws: {
        CloudWatchMetrics: [
          { Namespace: 'DurableAgents/Dispatch', Dimensions: [['Outcome']], Metrics: [{ Name: 'Deliveries', Unit: 'Count' }] },
        ],
      },
    });

    const nowhere = { ...slackMessageEvent({ text: 'stop' }), kind: 'stop' as const };
    expect((await handler({ Records: [sqsRecord(nowhere)] })).batchItemFailures).toEqual([]);
    expect(logs.at(-1)).toMatchObject({ msg: 'conversation refused event', update: 'stop' });
  });

  it('turns an email reply "APPROVE <code>" into a decision when the code matches a pending request', async () => {
    const { handler } = dispatcher();
    const root = `root-${crypto.randomUUID()}@mail.example.com`;
    const conversationId = `email:${root}`;
    await handler({ Records: [sqsRecord(emailMessageEvent({ messageId: root, text: 'send the invoice' }))] });
    const { requestId } = await pendingRequest(conversationId);
    const invoicesBefore = sentInvoices.length;

    const wrongCode = emailMessageEvent({ messageId: `b-${crypto.randomUUID()}@mail.example.com`, root, text: 'APPROVE ABCDEFGH' });
    const approve = emailMessageEvent({
      messageId: `a-${crypto.randomUUID()}@mail.example.com`,
      root,
      text: `approve ${emailApprovalCode(requestId, APPROVAL_SECRET)}\n\nthanks`,
    });
    await handler({ Records: [sqsRecord(wrongCode), sqsRecord(approve)] });

    const turns = await waitForTurn(temporal.client, conversationId, 2);
    expect(sentInvoices.length).toBe(invoicesBefore + 1);
    // A code that matches nothing is an ordinary message for the agent: it became the next turn.
    expect(turns.map((turn) => turn.messageIds)).toEqual([[`email-message:${root}`], [wrongCode.id]]);
    await expect
      .poll(() => answersIn(conversationId).map((reply) => reply.text), { timeout: 10_000 })
      .toEqual(['Done: send_invoice.', 'You said: APPROVE ABCDEFGH']);
  });

  it('acknowledges records that can never succeed, and logs why', async () => {
    const { handler, logs } = dispatcher(provider(), { DISPATCH_AGENTS: ['assistant'] });
    const response = await handler({
      Records: [
        sqsRecord('not json', 'm-1'),
        sqsRecord({ version: 2, id: 'x' }, 'm-2'),
        sqsRecord(slackMessageEvent({ agent: 'intruder' }), 'm-3'),
      ],
    });
    expect(response.batchItemFailures).toEqual([]);
    expect(logs.map((line) => [line.msg, line.sqsMessageId]).sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual([
      ['malformed record dropped', 'm-1'],
      ['malformed record dropped', 'm-2'],
      ['undeliverable event dropped', 'm-3'],
    ]);
  });

  it('reports every record as failed while Temporal is unreachable, then connects on a later invocation and reuses the connection', async () => {
    const port = await switchablePort(temporalAddress, await freePort());
    stops.push(port.close);
    const temporalProvider = provider(port.address);
    const { handler, logs } = dispatcher(temporalProvider);
    const events = [
      slackMessageEvent(),
      slackMessageEvent(),
      emailMessageEvent({ messageId: `u-${crypto.randomUUID()}@mail.example.com` }),
    ];
    const records = events.map((event) => sqsRecord(event));

    const down = await handler({ Records: records });
    expect(down.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      records.map((record) => record.messageId).sort(),
    );
    expect(logs.filter((line) => line.msg === 'delivery failed, will retry')).toHaveLength(3);
    expect(temporalProvider.connects).toBe(1);

    await port.open();
    expect((await handler({ Records: records })).batchItemFailures).toEqual([]);
    expect((await handler({ Records: [sqsRecord(slackMessageEvent())] })).batchItemFailures).toEqual([]);
    expect(temporalProvider.connects).toBe(2);
    for (const event of events) expect(await messageIdsOf(event.conversationId, 1)).toEqual([event.id]);
  });

  it('within one conversation, fails the records after a failed one so none overtakes it', async () => {
    const temporalProvider = provider(`127.0.0.1:${await freePort()}`);
    const { handler, logs } = dispatcher(temporalProvider);
    const first = slackMessageEvent();
    const second = slackMessageEvent({ threadTs: first.slack!.threadTs! });
    const response = await handler({ Records: [sqsRecord(first, 'g-1'), sqsRecord(second, 'g-2')] });
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['g-1', 'g-2']);
    // The second was never tried: one attempt, one log line.
    expect(logs.filter((line) => line.msg === 'delivery failed, will retry').map((line) => line.sqsMessageId)).toEqual(['g-1']);
  });

  it('reads the Temporal credentials from Secrets Manager once per cold start', async () => {
    const secrets = new SecretsManagerClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
    const reader = createSecretsManagerReader({
      ...MOTO_CLIENT_CONFIG,
      credentials: () => MOTO_CLIENT_CONFIG.credentials,
      endpoint: moto.endpoint,
    });
    let reads = 0;
    const readSecret = (arn: string) => {
      reads += 1;
      return reader(arn);
    };
    const good = await secrets.send(
      new CreateSecretCommand({ Name: `temporal-${crypto.randomUUID()}`, SecretString: JSON.stringify({ apiKey: 'test-api-key' }) }),
    );
    // An API key turns TLS on by default; the dev server speaks plaintext, so this test turns it off.
    const temporalProvider = createTemporalClientProvider({
      env: { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TLS: 'false' },
      readSecret,
      secretArn: good.ARN!,
      connectTimeoutMs: 1500,
    });
    providers.push(temporalProvider);
    const { handler } = dispatcher(temporalProvider);
    expect((await handler({ Records: [sqsRecord(slackMessageEvent())] })).batchItemFailures).toEqual([]);
    expect((await handler({ Records: [sqsRecord(slackMessageEvent())] })).batchItemFailures).toEqual([]);
    expect(reads).toBe(1);
    // The key from the secret is what the connection sends as its Authorization.
    const connection = (await temporalProvider.get()).connection as unknown as { apiKeyFnRef: { fn?: () => string } };
    expect(connection.apiKeyFnRef.fn?.()).toBe('test-api-key');

    const bad = await secrets.send(
      new CreateSecretCommand({ Name: `temporal-${crypto.randomUUID()}`, SecretString: JSON.stringify({ tlsCert: 'only half' }) }),
    );
    const broken = createTemporalClientProvider({
      env: { TEMPORAL_ADDRESS: temporalAddress },
      readSecret,
      secretArn: bad.ARN!,
      connectTimeoutMs: 1500,
    });
    const { handler: brokenHandler, logs } = dispatcher(broken);
    const record = sqsRecord(slackMessageEvent());
    expect((await brokenHandler({ Records: [record] })).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(String(logs.at(-1)?.detail)).toContain('tlsCert and tlsKey come together');
    secrets.destroy();
  });
});
