import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatchHandler } from '../../functions/dispatch/handler.ts';
import { createTemporalClientProvider, type TemporalClientProvider } from '../../functions/dispatch/temporal-client.ts';
import { emailApprovalCode } from '../../worker/replies/email-approval.ts';
import { MOTO_CLIENT_CONFIG, freePort, startMoto, type MotoServer } from '../support/moto.ts';
import { noTemporal, temporalAddress, useTemporal } from '../support/temporal.ts';
import { STUB_PENDING_REQUEST, stubStateQuery, type StubState } from './conversation-stub-workflow.ts';
import {
  APPROVAL_SECRET,
  dispatchConfig,
  emailMessageEvent,
  slackApprovalEvent,
  slackMessageEvent,
  sqsRecord,
  startStubWorker,
  switchablePort,
} from './support.ts';

describe.skipIf(noTemporal)('dispatch: SQS batch → update-with-start on the conversation workflow', () => {
  const temporal = useTemporal();
  const providers: TemporalClientProvider[] = [];
  const stops: (() => Promise<void>)[] = [];
  let taskQueue: string;
  let moto: MotoServer;

  beforeAll(async () => {
    taskQueue = temporal.taskQueue('dispatch');
    const worker = await startStubWorker(temporal.connection, taskQueue);
    stops.push(worker.stop);
    moto = await startMoto();
  }, 120_000);
  afterAll(async () => {
    for (const provider of providers) await provider.close();
    for (const stop of stops) await stop();
    await moto?.stop();
  });

  function provider(address = temporalAddress, options: Parameters<typeof createTemporalClientProvider>[0] = {}) {
    const created = createTemporalClientProvider({ env: { TEMPORAL_ADDRESS: address }, connectTimeoutMs: 1500, ...options });
    providers.push(created);
    return created;
  }

  function dispatcher(temporalProvider: TemporalClientProvider = provider(), overrides: Parameters<typeof dispatchConfig>[1] = {}) {
    const logs: Record<string, unknown>[] = [];
    const handler = createDispatchHandler({ config: dispatchConfig(taskQueue, overrides), temporal: temporalProvider, log: (fields) => logs.push(fields) });
    return { handler, logs };
  }

  function stubState(client: Client, conversationId: string): Promise<StubState> {
    return client.workflow.getHandle(conversationId).query(stubStateQuery);
  }

  it('starts a conversation per thread and delivers each message once, with the reply channel of its source', async () => {
    const { handler, logs } = dispatcher();
    const first = slackMessageEvent({ text: 'first' });
    const second = slackMessageEvent({ threadTs: first.slack!.threadTs!, text: 'second' });
    const email = emailMessageEvent({ messageId: `m-${crypto.randomUUID()}@mail.example.com`, subject: 'Launch date' });

    const response = await handler({ Records: [sqsRecord(first), sqsRecord(second), sqsRecord(email)] });
    expect(response.batchItemFailures).toEqual([]);

    const slackState = await stubState(temporal.client, first.conversationId);
    expect(slackState.start).toEqual({
      conversationId: first.conversationId,
      agent: 'assistant',
      channel: { kind: 'slack', teamId: 'T0TEAM', channelId: 'C0GENERAL', threadTs: first.slack!.threadTs },
    });
    expect(slackState.messages.map((message) => [message.id, message.text])).toEqual([
      [first.id, 'first'],
      [second.id, 'second'],
    ]);

    const emailState = await stubState(temporal.client, email.conversationId);
    const root = email.email!.messageId;
    expect(emailState.start.channel).toEqual({
      kind: 'email',
      from: 'assistant@agents.example.com',
      to: ['ana@example.com'],
      subject: 'Launch date',
      inReplyTo: root,
      references: [root],
    });
    expect(emailState.messages[0]).toMatchObject({ id: email.id, channel: emailState.start.channel, user: { email: 'ana@example.com' } });
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
    const state = await stubState(temporal.client, event.conversationId);
    expect(state.messages.map((message) => message.id)).toEqual([event.id]);
    expect(logs.filter((line) => line.msg === 'delivered')).toHaveLength(5);
  });

  it('turns approval clicks into decideApproval after checking the token again, and stop into stop', async () => {
    const { handler, logs } = dispatcher();
    const message = slackMessageEvent();
    await handler({ Records: [sqsRecord(message)] });
    const conversationId = message.conversationId;

    const approve = slackApprovalEvent(conversationId, STUB_PENDING_REQUEST);
    const forged = slackApprovalEvent(conversationId, STUB_PENDING_REQUEST, { secret: 'someone-elses-secret' });
    const elsewhere = slackApprovalEvent(conversationId, STUB_PENDING_REQUEST, { tokenConversation: 'slack:T0TEAM:C0OTHER:1.1' });
    const unknownRequest = slackApprovalEvent(conversationId, 'req-never-asked');
    const stop = { ...slackMessageEvent({ threadTs: message.slack!.threadTs! }), kind: 'stop' as const, text: 'stop' };
    const response = await handler({ Records: [sqsRecord(approve), sqsRecord(forged), sqsRecord(elsewhere), sqsRecord(unknownRequest), sqsRecord(stop)] });
    expect(response.batchItemFailures).toEqual([]);

    const state = await stubState(temporal.client, conversationId);
    expect(state.decisions).toEqual([{ requestId: STUB_PENDING_REQUEST, decision: 'approve', approver: 'U0BOSS' }]);
    expect(state.stops).toEqual([{ by: 'U0ANA' }]);
    expect(logs.filter((line) => line.msg === 'undeliverable event dropped').map((line) => line.reason)).toEqual([
      'approval token rejected: token signature does not match',
      'approval token names another request or conversation than the event',
    ]);
    expect(logs.find((line) => line.msg === 'conversation refused event')).toMatchObject({ update: 'decideApproval', id: unknownRequest.id });

    // An approval or a stop for a conversation that does not exist is acknowledged, not retried, and starts nothing.
    const orphan = slackApprovalEvent('slack:T0TEAM:C0GENERAL:999.000001', STUB_PENDING_REQUEST);
    expect((await handler({ Records: [sqsRecord(orphan)] })).batchItemFailures).toEqual([]);
    await expect(temporal.client.workflow.getHandle(orphan.conversationId).describe()).rejects.toThrow(/not found/i);
  });

  it('turns an email reply "APPROVE <code>" into a decision when the code matches a pending request', async () => {
    const { handler } = dispatcher();
    const root = `root-${crypto.randomUUID()}@mail.example.com`;
    await handler({ Records: [sqsRecord(emailMessageEvent({ messageId: root }))] });
    const code = emailApprovalCode(STUB_PENDING_REQUEST, APPROVAL_SECRET);
    const approve = emailMessageEvent({ messageId: `a-${crypto.randomUUID()}@mail.example.com`, root, text: `approve ${code}\n\nthanks` });
    const wrongCode = emailMessageEvent({ messageId: `b-${crypto.randomUUID()}@mail.example.com`, root, text: 'APPROVE ABCDEFGH' });
    await handler({ Records: [sqsRecord(approve), sqsRecord(wrongCode)] });

    const state = await stubState(temporal.client, `email:${root}`);
    expect(state.decisions).toEqual([{ requestId: STUB_PENDING_REQUEST, decision: 'approve', approver: 'ana@example.com' }]);
    // A code that matches nothing is an ordinary message for the agent.
    expect(state.messages.map((message) => message.text)).toEqual(['What is the launch date?', 'APPROVE ABCDEFGH']);
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
    const events = [slackMessageEvent(), slackMessageEvent(), emailMessageEvent({ messageId: `u-${crypto.randomUUID()}@mail.example.com` })];
    const records = events.map((event) => sqsRecord(event));

    const down = await handler({ Records: records });
    expect(down.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(records.map((record) => record.messageId).sort());
    expect(logs.filter((line) => line.msg === 'delivery failed, will retry')).toHaveLength(3);
    expect(temporalProvider.connects).toBe(1);

    await port.open();
    expect((await handler({ Records: records })).batchItemFailures).toEqual([]);
    expect((await handler({ Records: [sqsRecord(slackMessageEvent())] })).batchItemFailures).toEqual([]);
    expect(temporalProvider.connects).toBe(2);
    for (const event of events) expect((await stubState(temporal.client, event.conversationId)).messages).toHaveLength(1);
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
    let reads = 0;
    secrets.middlewareStack.add((next) => async (args) => {
      reads += 1;
      return next(args);
    });
    const good = await secrets.send(new CreateSecretCommand({ Name: `temporal-${crypto.randomUUID()}`, SecretString: JSON.stringify({ apiKey: 'test-api-key' }) }));
    reads = 0;
    // An API key turns TLS on by default; the dev server speaks plaintext, so this test turns it off.
    const temporalProvider = createTemporalClientProvider({ env: { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TLS: 'false' }, secrets, secretArn: good.ARN!, connectTimeoutMs: 1500 });
    providers.push(temporalProvider);
    const { handler } = dispatcher(temporalProvider);
    expect((await handler({ Records: [sqsRecord(slackMessageEvent())] })).batchItemFailures).toEqual([]);
    expect((await handler({ Records: [sqsRecord(slackMessageEvent())] })).batchItemFailures).toEqual([]);
    expect(reads).toBe(1);
    // The key from the secret is what the connection sends as its Authorization.
    const connection = (await temporalProvider.get()).connection as unknown as { apiKeyFnRef: { fn?: () => string } };
    expect(connection.apiKeyFnRef.fn?.()).toBe('test-api-key');

    const bad = await secrets.send(new CreateSecretCommand({ Name: `temporal-${crypto.randomUUID()}`, SecretString: JSON.stringify({ tlsCert: 'only half' }) }));
    const broken = createTemporalClientProvider({ env: { TEMPORAL_ADDRESS: temporalAddress }, secrets, secretArn: bad.ARN!, connectTimeoutMs: 1500 });
    const { handler: brokenHandler, logs } = dispatcher(broken);
    const record = sqsRecord(slackMessageEvent());
    expect((await brokenHandler({ Records: [record] })).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(String(logs.at(-1)?.detail)).toContain('tlsCert and tlsKey come together');
    secrets.destroy();
  });
});
