import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { TranscriptStore } from '../../store/transcript-store.ts';
import type { EventQueue } from '../shared/event-queue.ts';
import { jsonLog, type Log } from '../shared/log.ts';
import type { SqsBatchEvent, SqsBatchResponse } from '../shared/sqs-batch.ts';
import { parseInboundEmail } from './email.ts';
import type { EmailEdgeSettings } from './settings.ts';

export interface EmailBatchDependencies {
  config: EmailEdgeSettings;
  s3: S3Client;
  queue: EventQueue;
  /** Where attachments are stored (content-addressed); without it events carry metadata only. */
  store?: Pick<TranscriptStore, 'putBlob'>;
  /** @default jsonLog */
  log?: Log;
  now?: () => number;
}

const verdict = z.object({ status: z.string() }).optional();
const sesNotificationSchema = z.looseObject({
  notificationType: z.literal('Received'),
  mail: z.looseObject({ messageId: z.string() }),
  receipt: z.looseObject({
    recipients: z.array(z.string()),
    spamVerdict: verdict,
    virusVerdict: verdict,
    spfVerdict: verdict,
    dkimVerdict: verdict,
    dmarcVerdict: verdict,
    action: z.looseObject({ type: z.literal('S3'), bucketName: z.string().min(1), objectKey: z.string().min(1) }),
  }),
});
type SesNotification = z.infer<typeof sesNotificationSchema>;

/** A record that can never succeed: logged and dropped rather than retried into the DLQ. */
class PermanentFailure extends Error {}

/**
 * SES stores each message in S3 and notifies SNS, which feeds SQS, which invokes this. Per
 * record: read the raw MIME, decide, queue. Rejections are logged and dropped; S3 or SQS
 * trouble marks only that record failed, so Lambda retries it and not the whole batch.
 */
export function createEmailBatchHandler(dependencies: EmailBatchDependencies) {
  const { config, s3, queue } = dependencies;
  const log = dependencies.log ?? jsonLog;

  async function handleRecord(record: SqsBatchEvent['Records'][number]): Promise<void> {
    const notification = sesNotificationOf(record.body);
    const { bucketName, objectKey } = notification.receipt.action;
    const context = { sqsMessageId: record.messageId, sesMessageId: notification.mail.messageId, s3Key: objectKey };
    const raw = await readRawMessage(bucketName, objectKey);
    const result = await parseInboundEmail({ raw, receipt: notification.receipt, s3Key: objectKey, config, ...(dependencies.now ? { now: dependencies.now } : {}) });
    if ('rejected' in result) {
      log({ msg: 'email rejected', reason: result.rejected, ...context });
      return;
    }
    const event = result.accepted;
    if (dependencies.store && event.email) {
      // Stored before the event is queued: a retried record stores the same bytes under the same ref.
      const refs = await Promise.all(result.attachments.map((attachment) => dependencies.store!.putBlob(attachment.content, attachment.contentType)));
      event.email.attachments = event.email.attachments.map((attachment, index) => ({ ...attachment, ref: refs[index]! }));
    }
    await queue.send(event);
    log({ msg: 'email queued', id: event.id, kind: event.kind, agent: event.agent, conversationId: event.conversationId, attachments: result.attachments.length, ...context });
  }

  async function readRawMessage(bucket: string, key: string): Promise<Uint8Array> {
    let response;
    try {
      response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') throw new PermanentFailure(`raw message s3://${bucket}/${key} does not exist`);
      throw error;
    }
    if ((response.ContentLength ?? 0) > config.EMAIL_MAX_RAW_BYTES) {
      response.Body?.transformToWebStream().cancel().catch(() => undefined);
      throw new PermanentFailure(`raw message is ${response.ContentLength} bytes, over EMAIL_MAX_RAW_BYTES=${config.EMAIL_MAX_RAW_BYTES}`);
    }
    if (!response.Body) throw new Error(`S3 returned no body for s3://${bucket}/${key}`);
    return response.Body.transformToByteArray();
  }

  return async function handleEmailBatch(event: SqsBatchEvent): Promise<SqsBatchResponse> {
    const outcomes = await Promise.all(
      event.Records.map(async (record) => {
        try {
          await handleRecord(record);
          return undefined;
        } catch (error) {
          if (error instanceof PermanentFailure) {
            log({ msg: 'email rejected', reason: error.message, sqsMessageId: record.messageId });
            return undefined;
          }
          log({ msg: 'email failed, will retry', error: (error as Error).name, detail: (error as Error).message, sqsMessageId: record.messageId });
          return { itemIdentifier: record.messageId };
        }
      }),
    );
    return { batchItemFailures: outcomes.filter((outcome) => outcome !== undefined) };
  };
}

/** The SES notification in a record: inside an SNS envelope, or bare under raw delivery. */
function sesNotificationOf(body: string): SesNotification {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
    const envelope = parsed as { Type?: unknown; Message?: unknown };
    if (envelope.Type === 'Notification' && typeof envelope.Message === 'string') parsed = JSON.parse(envelope.Message);
  } catch {
    throw new PermanentFailure('record body is not JSON');
  }
  const notification = sesNotificationSchema.safeParse(parsed);
  if (!notification.success) throw new PermanentFailure(`record is not an SES receipt with an S3 action: ${notification.error.issues[0]?.message ?? ''}`);
  return notification.data;
}
