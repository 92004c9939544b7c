import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadEmailIngressConfig } from './config.ts';
import { createEmailHandler } from './email-handler.ts';
import { createSqsEventQueue } from './sqs-sdk-queue.ts';
import { createTranscriptStore } from '../../store/create-store.ts';

// SQS-triggered (SES → S3 → SNS → SQS), with ReportBatchItemFailures on the event source.
const config = loadEmailIngressConfig();
const queue = createSqsEventQueue({ client: new SQSClient({}), queueUrl: config.INGRESS_QUEUE_URL });

const s3 = new S3Client({});
// Attachments go into the transcript store (TRANSCRIPT_STORE, TRANSCRIPT_BUCKET, …), with no cache: each is written once.
const store = createTranscriptStore({ ...process.env, TRANSCRIPT_CACHE_BYTES: '0' }, { s3Client: s3 });

export const handler = createEmailHandler({ config, s3, queue, store });
