import { createHmac, randomUUID } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MOTO_CLIENT_CONFIG, freePort } from './moto.ts';
import type { EmailEdgeSettings } from '../config/email-edge-settings.ts';
import { createSqsEventQueue, type EventQueue } from '../functions/shared/event-queue.ts';
import type { SlackEdgeSettings } from '../config/slack-edge-settings.ts';

export const SIGNING_SECRET = 'test-signing-secret-8f3a';
export const APPROVAL_SECRET = 'test-approval-secret-51c2';
export const REPLY_SECRET = 'test-reply-secret-0d9e';

export function slackConfig(queueUrl: string, overrides: Partial<SlackEdgeSettings> = {}): SlackEdgeSettings {
  return {
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    APPROVAL_TOKEN_SECRET: APPROVAL_SECRET,
    INGRESS_QUEUE_URL: queueUrl,
    SLACK_BOT_USER_ID: undefined,
    SLACK_DEFAULT_AGENT: 'assistant',
    SLACK_BOT_TOKEN: undefined,
    SLACK_API_URL: undefined,
    INGRESS_MAX_BODY_BYTES: 1024 * 1024,
    SLACK_TIMESTAMP_TOLERANCE_SECONDS: 300,
    INGRESS_QUEUE_TIMEOUT_MS: 2500,
    ...overrides,
  };
}

export function emailConfig(queueUrl: string, overrides: Partial<EmailEdgeSettings> = {}): EmailEdgeSettings {
  return {
    INGRESS_QUEUE_URL: queueUrl,
    EMAIL_ALLOWED_SENDERS: ['ana@example.com', '@trusted.example'],
    EMAIL_REPLY_TOKEN_SECRET: REPLY_SECRET,
    EMAIL_DMARC_POLICY: 'reject-on-fail',
    EMAIL_MAX_BODY_CHARS: 20_000,
    EMAIL_MAX_RAW_BYTES: 1024 * 1024,
    EMAIL_MAX_ATTACHMENT_BYTES: 256 * 1024,
    ...overrides,
  };
}

/**
 * Signs like Slack does, written out here rather than imported from the code under test;
 * test/unit/slack-signature.test.ts checks it against Bolt's own verifier.
 */
export function signSlack(body: string, options: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', options.secret ?? SIGNING_SECRET)
    .update(`v0:${timestamp}:${body}`)
    .digest('hex');
  return { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `v0=${signature}` };
}

/** A signed POST as Slack sends it: JSON for events, form encoding for the rest. */
export function slackPost(
  body: string,
  options: { form?: boolean; headers?: Record<string, string>; timestamp?: number } = {},
): RequestInit {
  return {
    method: 'POST',
    body,
    headers: {
      'content-type': options.form ? 'application/x-www-form-urlencoded' : 'application/json',
      ...signSlack(body, options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
      ...options.headers,
    },
  };
}

export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ ...MOTO_CLIENT_CONFIG, endpoint });
}

/** The edges' own queue (signed SendMessage over `fetch`), writing to moto, or to `endpoint` when given. */
export function motoEventQueue(queueUrl: string, options: { endpoint?: string; timeoutMs?: number } = {}): EventQueue {
  return createSqsEventQueue({
    queueUrl,
    region: MOTO_CLIENT_CONFIG.region,
    credentials: () => MOTO_CLIENT_CONFIG.credentials,
    ...options,
  });
}

export async function createFifoQueue(sqs: SQSClient, prefix = 'ingress'): Promise<string> {
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-${randomUUID().slice(0, 8)}.fifo`,
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
    }),
  );
  return created.QueueUrl as string;
}

export interface QueuedMessage {
  body: unknown;
  groupId: string | undefined;
  deduplicationId: string | undefined;
}

/** Every message in the queue, read without deleting (moto deduplicates only against stored messages). */
export async function queuedMessages(sqs: SQSClient, queueUrl: string): Promise<QueuedMessage[]> {
  const messages: QueuedMessage[] = [];
  for (let round = 0; round < 20; round++) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 600,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
      }),
    );
    if (!received.Messages?.length) break;
    for (const message of received.Messages) {
      messages.push({
        body: JSON.parse(message.Body ?? 'null'),
        groupId: message.Attributes?.MessageGroupId,
        deduplicationId: message.Attributes?.MessageDeduplicationId,
      });
    }
  }
  return messages;
}

/** Visible plus in-flight messages: zero means nothing was ever queued (tests never delete). */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** An address nothing listens on: SQS (or S3) being down. */
export async function closedEndpoint(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}
