import { SQSClient } from '@aws-sdk/client-sqs';
import { jsonLog } from '../ingress/log.ts';
import { redriveDeadLetters } from './redrive.ts';

// `npm run dispatch:redrive`: moves everything in DISPATCH_DLQ_URL back to DISPATCH_QUEUE_URL.
const from = process.env.DISPATCH_DLQ_URL;
const to = process.env.DISPATCH_QUEUE_URL;
if (!from || !to) throw new Error('Set DISPATCH_DLQ_URL (the dead-letter queue) and DISPATCH_QUEUE_URL (the queue to move its messages back to).');
const moved = await redriveDeadLetters({ sqs: new SQSClient({}), from, to });
jsonLog({ msg: 'redriven', moved, from, to });
