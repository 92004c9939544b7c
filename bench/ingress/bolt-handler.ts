import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App, AwsLambdaReceiver, LogLevel } from '@slack/bolt';
import { loadSlackEdgeSettings } from '../../config/slack-edge-settings.ts';
import { sqsMessageOf } from '../../functions/shared/event-queue.ts';
import { normaliseSlackEvent } from '../../functions/slack/slack-events.ts';

/**
 * The Slack edge as Bolt's Lambda receiver builds it, for `npm run bench -- ingress`: the same
 * settings, normaliser and SQS message as functions/slack/handler.ts, with Bolt doing the
 * signature check, the routing and the acknowledgement, and SendMessage through
 * `@aws-sdk/client-sqs` as such an edge would send it (what ours avoids loading). The receiver
 * returns only once the listener has finished, so here too a 200 means "SQS holds it".
 */
const config = loadSlackEdgeSettings(process.env);
const sqs = new SQSClient({});
const receiver = new AwsLambdaReceiver({ signingSecret: config.SLACK_SIGNING_SECRET, logLevel: LogLevel.WARN });

// Bolt authorizes every event with a bot token; with the bot's ids given it never calls auth.test.
const botUserId = process.env.SLACK_BOT_USER_ID || 'U0BOT';
const app = new App({
  receiver,
  token: process.env.SLACK_BOT_TOKEN || 'xoxb-bench',
  botId: process.env.SLACK_BOT_ID || 'B0BOT',
  botUserId,
  tokenVerificationEnabled: false,
  logLevel: LogLevel.WARN,
});

app.event('app_mention', async ({ body }) => {
  const outcome = normaliseSlackEvent(body, { defaultAgent: config.SLACK_DEFAULT_AGENT, botUserId, now: Date.now });
  if (outcome.type === 'event') {
    await sqs.send(new SendMessageCommand({ QueueUrl: config.INGRESS_QUEUE_URL, ...sqsMessageOf(outcome.event) }), {
      abortSignal: AbortSignal.timeout(config.INGRESS_QUEUE_TIMEOUT_MS),
    });
  }
});

export const handler = receiver.toHandler();
