import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../events/inbound-event.ts';
import { createInProcessQueue } from '../../local/in-process-queue.ts';
import { closedEndpoint, createFifoQueue, motoEventQueue, sqsClient } from '../../testkit/ingress.ts';
import { startMoto, type MotoServer } from '../../testkit/moto.ts';

/** One event whose conversation id is longer than SQS takes as a group id, so it is hashed. */
const event: InboundEvent = {
  version: 1,
  id: 'slack-message:T0TEAM:C0GENERAL:1712000000.000100',
  source: 'slack',
  kind: 'message',
  conversationId: `slack:T0TEAM:C0GENERAL:${'9'.repeat(130)}`,
  receivedAt: '2026-12-07T21:00:00.000Z',
  user: { id: 'U0ANA' },
  text: 'summarise the launch thread',
  slack: { teamId: 'T0TEAM', channelId: 'C0GENERAL', threadTs: '1712000000.000100', ts: '1712000000.000100' },
};
const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', startedAt: 1_765_000_000_000 };

let moto: MotoServer;
let sqs: SQSClient;

beforeAll(async () => {
  moto = await startMoto();
  sqs = sqsClient(moto.endpoint);
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await moto?.stop();
});

describe('the one SQS path', () => {
  it('sends the event with its group, deduplication id and trace attributes, signed, as SQS reads them', async () => {
    const queueUrl = await createFifoQueue(sqs, 'path');
    await motoEventQueue(queueUrl).send(event, trace);
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
        MessageAttributeNames: ['All'],
      }),
    );
    const [message] = received.Messages ?? [];
    expect(JSON.parse(message!.Body!)).toEqual(event);
    expect(message!.Attributes).toEqual({
      MessageGroupId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      MessageDeduplicationId: event.id,
    });
    expect(message!.MessageAttributes).toEqual({
      source: { DataType: 'String', StringValue: 'slack' },
      kind: { DataType: 'String', StringValue: 'message' },
      traceparent: { DataType: 'String', StringValue: trace.traceparent },
      edge_started_at: { DataType: 'Number', StringValue: String(trace.startedAt) },
    });
  });

  it('the local queue groups the same conversation under the same id', async () => {
    const queueUrl = await createFifoQueue(sqs, 'group');
    await motoEventQueue(queueUrl).send(event);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageSystemAttributeNames: ['MessageGroupId'] }));
    const local = createInProcessQueue({ file: join(mkdtempSync(join(tmpdir(), 'event-queue-')), 'queue.json') });
    await local.send(event);
    const controller = new AbortController();
    let groupId: string | undefined;
    await local.run(async (batch) => {
      groupId = batch.Records[0]?.attributes?.MessageGroupId;
      controller.abort();
      return { batchItemFailures: [] };
    }, controller.signal);
    expect(groupId).toBe(received.Messages?.[0]?.Attributes?.MessageGroupId);
  });

  it('fails as the AWS SDK does: a refusal carries SQS’s error type and a 4xx, an unreachable SQS is no TypeError', async () => {
    const missing = `${moto.endpoint}/123456789012/no-such-queue.fifo`;
    const refused = await motoEventQueue(missing)
      .send(event)
      .then(
        () => undefined,
        (error: unknown) => error as Error & { $metadata?: { httpStatusCode?: number } },
      );
    expect(refused?.name).toMatch(/QueueDoesNotExist|NonExistentQueue/);
    expect(refused?.$metadata?.httpStatusCode).toBe(400);

    const endpoint = await closedEndpoint();
    const down = await motoEventQueue(`${endpoint}/123456789012/ingress.fifo`)
      .send(event)
      .then(
        () => undefined,
        (error: unknown) => error as Error,
      );
    expect(down).toBeInstanceOf(Error);
    expect(down).not.toBeInstanceOf(TypeError);
    expect(down?.name).toBe('NetworkError');
    expect(down?.message).toMatch(/^SQS SendMessage did not answer/);
  });
});
