import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { EmailThreadIndex } from '../../store/email-thread-index.ts';
import type { TranscriptStore } from '../../store/transcript-store.ts';
import { sqsMessageOf, type EventQueue } from '../shared/event-queue.ts';
import { jsonLog, type Log } from '../shared/log.ts';
import type { SqsBatchEvent, SqsBatchResponse } from '../shared/sqs-batch.ts';
import { parseInboundEmail, screenNotification } from './email.ts';
import type { EmailEdgeSettings } from '../../config/email-edge-settings.ts';

export interface EmailBatchDependencies {
  config: EmailEdgeSettings;
  s3: S3Client;
  queue: EventQueue;
  /** Where attachments are stored (content-addressed); without it events carry metadata only. */
  store?: Pick<TranscriptStore, 'putBlob'>;
  /** The worker's thread records; without them every message starts a new conversation. */
  threads?: Pick<EmailThreadIndex, 'getToken' | 'getMessage'>;
  /** @default jsonLog */
  log?: Log;
  now?: () => number;
}

const verdict = z.looseObject({ status: z.string().max(64) }).optional();
const sesNotificationSchema = z.looseObject({
  notificationType: z.literal('Received'),
  mail: z.looseObject({
    messageId: z.string().max(256),
    source: z.string().max(1024).optional(),
    headersTruncated: z.boolean().optional(),
    headers: z
      .array(z.looseObject({ name: z.string().max(256), value: z.string().max(64 * 1024) }))
      .max(2000)
      .optional(),
    commonHeaders: z
      .looseObject({
        from: z.array(z.string().max(4096)).max(100).optional(),
        messageId: z.string().max(4096).optional(),
        subject: z.string().optional(),
      })
      .optional(),
  }),
  receipt: z.looseObject({
    recipients: z.array(z.string().max(1024)).max(100),
    spamVerdict: verdict,
    virusVerdict: verdict,
    spfVerdict: verdict,
    dkimVerdict: verdict,
    dmarcVerdict: verdict,
    dmarcPolicy: z.string().max(32).optional(),
    action: z.looseObject({ type: z.literal('S3'), bucketName: z.string().min(1), objectKey: z.string().min(1) }),
  }),
});
type SesNotification = z.infer<typeof sesNotificationSchema>;

/** SQS refuses a message body over 256 KiB; the edge refuses it first, with a reason. */
const MAX_SQS_BODY_BYTES = 256 * 1024;

/** A record that can never succeed: logged and acknowledged rather than retried into the DLQ. */
class PermanentFailure extends Error {}

/**
 * SES stores each message in S3 and notifies SNS, which feeds SQS, which invokes this. Per
 * record: decide what the notification alone can (sender, authentication, automatic mail),
 * then read the raw MIME, decide the rest, queue. Rejections are logged and acknowledged; only
 * S3, the thread records, the store or SQS being unavailable marks a record failed, so Lambda
 * retries that record and not the whole batch. Every other error, a bug included, is
 * permanent for that input: retrying the same bytes gives the same answer.
 */
export function createEmailBatchHandler(dependencies: EmailBatchDependencies) {
  const { config, s3, queue } = dependencies;
  const log = dependencies.log ?? jsonLog;

  async function handleRecord(record: SqsBatchEvent['Records'][number]): Promise<void> {
    const notification = sesNotificationOf(record.body);
    const { bucketName, objectKey } = notification.receipt.action;
    const context = { sqsMessageId: record.messageId, sesMessageId: notification.mail.messageId, s3Key: objectKey };
    const screened = screenNotification(notification.mail, notification.receipt, config);
    if ('rejected' in screened) {
      log({ msg: 'email rejected', stage: 'notification', reason: screened.rejected, ...context });
      return;
    }
    const raw = await transient(() => readRawMessage(bucketName, objectKey));
    const result = await transient(() =>
      parseInboundEmail({
        raw,
        mail: notification.mail,
        receipt: notification.receipt,
        s3Key: objectKey,
        config,
        ...(dependencies.threads ? { threads: dependencies.threads } : {}),
        ...(dependencies.now ? { now: dependencies.now } : {}),
      }),
    );
    if ('rejected' in result) {
      log({ msg: 'email rejected', stage: 'message', reason: result.rejected, ...context });
      return;
    }
    const event = result.accepted;
    if (dependencies.store && event.email) {
      // Stored before the event is queued: a retried record stores the same bytes under the same ref.
      const refs = await transient(() =>
        Promise.all(
          result.attachments.map((attachment) =>
            attachment.content ? dependencies.store!.putBlob(attachment.content, attachment.contentType) : undefined,
          ),
        ),
      );
      event.email.attachments = event.email.attachments.map((attachment, index) =>
        refs[index] ? { ...attachment, ref: refs[index] } : attachment,
      );
    }
    const message = sqsMessageOf(event);
    const bytes = Buffer.byteLength(message.MessageBody);
    if (bytes > MAX_SQS_BODY_BYTES) throw new PermanentFailure(`event is ${bytes} bytes, over SQS's ${MAX_SQS_BODY_BYTES}`);
    await transient(() => queue.send(event));
    log({
      msg: 'email queued',
      id: event.id,
      kind: event.kind,
      agent: event.agent,
      conversationId: event.conversationId,
      authenticatedBy: screened.accepted.authenticatedBy,
      attachments: result.attachments.length,
      notes: result.notes,
      ...context,
    });
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
      response.Body?.transformToWebStream()
        .cancel()
        .catch(() => undefined);
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
          if (error instanceof TransientFailure) {
            const cause = error.cause as Error;
            log({
              msg: 'email failed, will retry',
              error: cause.name,
              detail: cause.message.slice(0, 500),
              sqsMessageId: record.messageId,
            });
            return { itemIdentifier: record.messageId };
          }
          log({ msg: 'email rejected', stage: 'error', reason: (error as Error).message.slice(0, 500), sqsMessageId: record.messageId });
          return undefined;
        }
      }),
    );
    return { batchItemFailures: outcomes.filter((outcome) => outcome !== undefined) };
  };
}

/** An outage worth retrying: S3, the thread records, the store or SQS did not answer. */
class TransientFailure extends Error {}

/** Marks what `work` throws as retryable, unless it is a PermanentFailure. */
async function transient<Result>(work: () => Promise<Result>): Promise<Result> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PermanentFailure || isRefusal(error)) throw error;
    throw new TransientFailure('transient', { cause: error });
  }
}

/** AWS refusals of the input itself (a bad parameter, a message SQS will never take). */
function isRefusal(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (error instanceof TypeError || error instanceof RangeError) return true;
  return (
    /InvalidParameterValue|InvalidMessageContents|InvalidAttributeValue/.test(name) ||
    (status !== undefined && status >= 400 && status < 500 && ![403, 404, 408, 429].includes(status))
  );
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
  if (!notification.success)
    throw new PermanentFailure(`record is not an SES receipt with an S3 action: ${notification.error.issues[0]?.message ?? ''}`);
  return notification.data;
}
