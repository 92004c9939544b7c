import { S3Client } from '@aws-sdk/client-s3';
import { createTranscriptStore } from '../../store/create-store.ts';
import { createEmailThreadIndex } from '../../store/email-thread-index.ts';
import { recordFilesFor } from '../../store/record-files.ts';
import { loadSecrets, secretsManagerReaderFrom, secretsOrExit, withSecretRefresh } from '../shared/secrets.ts';
import { credentialsFromEnvironment, sqsTargetFromEnvironment } from '../shared/aws-signature.ts';
import { createSqsEventQueue } from '../shared/event-queue.ts';
import { createEmailBatchHandler } from './email-batch.ts';
import { loadEmailLambdaSettings } from '../../config/email-edge-settings.ts';

// SQS-triggered (SES → S3 → SNS → SQS), with ReportBatchItemFailures on the event source.
// Read at cold start: a missing setting fails the init, naming the variable; the reply token
// secret comes from Secrets Manager (the configuration holds only its ARN).
const settings = loadEmailLambdaSettings(process.env);
const secrets = await secretsOrExit(
  loadSecrets({
    read: secretsManagerReaderFrom(process.env),
    secrets: {
      EMAIL_REPLY_TOKEN_SECRET: { variable: 'EMAIL_REPLY_TOKEN_SECRET_ARN', arn: settings.secretArns.EMAIL_REPLY_TOKEN_SECRET_ARN },
    },
  }),
);
// The same signed SendMessage as the Slack edge, with the function role's credentials.
const queue = createSqsEventQueue({
  queueUrl: settings.edge.INGRESS_QUEUE_URL,
  ...sqsTargetFromEnvironment(process.env),
  credentials: () => credentialsFromEnvironment(process.env),
});
const s3 = new S3Client({});
// Attachments go into the transcript store, with no cache: each is written once.
const store = createTranscriptStore({ ...settings.transcripts, TRANSCRIPT_CACHE_BYTES: 0 }, { s3Client: s3 });

// The worker's thread records sit next to the transcripts: who may continue which conversation.
const threads = createEmailThreadIndex(recordFilesFor(settings.transcripts, { s3Client: s3 }));

// A rotated reply token secret reaches a warm function within five minutes.
export const handler = withSecretRefresh(
  secrets,
  (values) => createEmailBatchHandler({ config: { ...settings.edge, ...values }, s3, queue, store, threads }),
  { maxAgeMs: 5 * 60_000 },
);
