import type { Server } from 'node:http';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serveLambdaHandler, type AnyLambdaHandler } from '../../bench/ingress/function-url.ts';
import { appMentionRequest, BOT_USER, SIGNING_SECRET, TEAM } from '../../bench/ingress/slack-requests.ts';
import { inboundEventSchema } from '../../events/inbound-event.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { silentLog } from '../../functions/shared/log.ts';
import { createFifoQueue, queueDepth, queuedMessages, slackConfig, motoEventQueue, sqsClient } from '../../testkit/ingress.ts';
import { MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';

/** The bench's other two ingresses do the same job as ours: checked here, measured by `npm run bench -- ingress`. */
let moto: MotoServer;
let sqs: SQSClient;
let queueUrl: string;
const servers: Server[] = [];

beforeAll(async () => {
  moto = await startMoto();
  sqs = sqsClient(moto.endpoint);
  queueUrl = await createFifoQueue(sqs, 'bench-bolt');
  // The handlers read their settings when imported, as a Lambda does at cold start.
  const settings: Record<string, string> = {
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    APPROVAL_TOKEN_SECRET: 'bench-approval-secret',
    SLACK_BOT_USER_ID: BOT_USER,
    INGRESS_QUEUE_URL: queueUrl,
    AWS_REGION: MOTO_CLIENT_CONFIG.region,
    AWS_ACCESS_KEY_ID: MOTO_CLIENT_CONFIG.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CLIENT_CONFIG.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: moto.endpoint,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'ingress-bench-smoke',
    DIRECT_WORKFLOW_TYPE: 'benchConversation',
  };
  for (const [name, value] of Object.entries(settings)) vi.stubEnv(name, value);
});
afterAll(async () => {
  for (const server of servers) server.close();
  vi.unstubAllEnvs();
  sqs?.destroy();
  await moto?.stop();
});

async function serve(module: Promise<{ handler: AnyLambdaHandler }>): Promise<string> {
  const server = await serveLambdaHandler((await module).handler);
  servers.push(server);
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

function post(url: string, request: { body: string; headers: Record<string, string> }): Promise<Response> {
  return fetch(`${url}/slack/events`, { method: 'POST', ...request });
}

describe('the Bolt ingress', () => {
  it('queues the same InboundEvent as ours, and only once the queue holds it', async () => {
    const url = await serve(import('../../bench/ingress/bolt-handler.ts'));
    const request = appMentionRequest(0, 7);
    const response = await post(url, request);
    expect(response.status).toBe(200);
    const [queued] = await queuedMessages(sqs, queueUrl);
    const bolt = inboundEventSchema.parse(queued?.body);

    const oursQueue = await createFifoQueue(sqs, 'bench-ours');
    const ours = createSlackApp({
      config: slackConfig(oursQueue, { SLACK_BOT_USER_ID: BOT_USER }),
      queue: motoEventQueue(oursQueue),
      log: silentLog,
    });
    expect((await ours.request('/slack/events', { method: 'POST', ...request })).status).toBe(200);
    const [oursQueued] = await queuedMessages(sqs, oursQueue);
    const { receivedAt: _bolt, ...boltEvent } = bolt;
    const { receivedAt: _ours, ...oursEvent } = inboundEventSchema.parse(oursQueued?.body);
    expect(boltEvent).toEqual(oursEvent);
    expect(bolt).toMatchObject({
      kind: 'message',
      text: 'summarise thread 0',
      conversationId: expect.stringMatching(new RegExp(`^slack:${TEAM}:C0GENERAL:`)),
    });
  });

  it('refuses a request signed with another secret', async () => {
    const url = await serve(import('../../bench/ingress/bolt-handler.ts'));
    const request = appMentionRequest(1, 7);
    const response = await post(url, { ...request, headers: { ...request.headers, 'x-slack-signature': `v0=${'0'.repeat(64)}` } });
    expect(response.status).toBe(401);
    expect(await queueDepth(sqs, queueUrl)).toBe(1);
  });
});

describe.skipIf(noTemporal)('the direct ingress', () => {
  const temporal = useTemporal();

  it("starts the conversation's workflow before it answers 200", async () => {
    const url = await serve(import('../../bench/ingress/direct-handler.ts'));
    const request = appMentionRequest(0, 8);
    const response = await post(url, request);
    expect(response.status).toBe(200);
    const ts = (JSON.parse(request.body) as { event: { ts: string } }).event.ts;
    const handle = temporal.client.workflow.getHandle(`slack:${TEAM}:C0GENERAL:${ts}`);
    const description = await handle.describe();
    expect(description).toMatchObject({ type: 'benchConversation', taskQueue: 'ingress-bench-smoke', status: { name: 'RUNNING' } });
    await handle.terminate('bench smoke test');
  });
});
