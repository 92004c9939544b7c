import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadEmailIngressConfig } from './config.ts';
import { createEmailHandler } from './email-handler.ts';
import { createSqsEventQueue } from './event-queue.ts';

// SQS-triggered (SES → S3 → SNS → SQS), with ReportBatchItemFailures on the event source.
const config = loadEmailIngressConfig();
const queue = createSqsEventQueue({ client: new SQSClient({}), queueUrl: config.INGRESS_QUEUE_URL });

export const handler = createEmailHandler({ config, s3: new S3Client({}), queue });
