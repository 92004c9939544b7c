import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createTranscriptStore } from '../../store/create-store.ts';
import { createEmailThreadIndex } from '../../store/email-thread-index.ts';
import { createSqsEventQueue } from '../shared/sqs-sdk-queue.ts';
import { createEmailBatchHandler } from './email-batch.ts';
import { loadEmailLambdaSettings } from './settings.ts';

// SQS-triggered (SES → S3 → SNS → SQS), with ReportBatchItemFailures on the event source.
// Read at cold start: a missing setting fails the init, naming the variable.
const settings = loadEmailLambdaSettings(process.env);
const queue = createSqsEventQueue({ client: new SQSClient({}), queueUrl: settings.edge.INGRESS_QUEUE_URL });
const s3 = new S3Client({});
// Attachments go into the transcript store, with no cache: each is written once.
const store = createTranscriptStore({ ...settings.transcripts, TRANSCRIPT_CACHE_BYTES: 0 }, { s3Client: s3 });

// The worker's thread records sit next to the transcripts: who may continue which conversation.
const threads = createEmailThreadIndex(settings.transcripts, { s3Client: s3 });

export const handler = createEmailBatchHandler({ config: settings.edge, s3, queue, store, threads });
