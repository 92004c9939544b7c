import { SQSClient } from '@aws-sdk/client-sqs';
import { settingsOrExit } from '../config/load-settings.ts';
import { jsonLog } from '../functions/shared/log.ts';
import { redriveDeadLetters } from './redrive-dead-letters.ts';
import { loadRedriveSettings } from '../config/local-settings.ts';

// `npm run dispatch:redrive`: moves everything in DISPATCH_DLQ_URL back to DISPATCH_QUEUE_URL.
const { DISPATCH_DLQ_URL: from, DISPATCH_QUEUE_URL: to } = settingsOrExit(() => loadRedriveSettings(process.env));
const moved = await redriveDeadLetters({ sqs: new SQSClient({}), from, to });
jsonLog({ msg: 'redriven', moved, from, to });
