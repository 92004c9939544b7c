import * as z from 'zod';
import { loadSettingsFrom, optionalText } from '../../core/load-settings.ts';
import type { ReplyAdapter } from './reply-channel.ts';
import { createSlackWebClient } from './slack-client.ts';
import { createSlackReplyAdapter } from './slack.ts';

/** Settings of Slack replies; without `SLACK_BOT_TOKEN` the worker answers no Slack thread. */
export const slackReplySettingsSchema = z
  .object({
    /** The bot token (`xoxb-…`) replies are posted with. */
    SLACK_BOT_TOKEN: optionalText,
    /** Base URL of the Slack Web API. @default https://slack.com/api/ (the local stand-in: http://127.0.0.1:PORT/api/) */
    SLACK_API_URL: optionalText.pipe(z.url({ message: 'SLACK_API_URL must be a URL such as http://127.0.0.1:3000/api/' }).optional()),
    /** Signs the approval buttons; the ingress and dispatcher check it. */
    APPROVAL_TOKEN_SECRET: optionalText,
    /** Least time between two edits of one status message. @default 1000 ms */
    SLACK_STATUS_INTERVAL_MS: z.coerce.number({ message: 'SLACK_STATUS_INTERVAL_MS must be a number of milliseconds' }).int().nonnegative().default(1000),
  })
  .refine((settings) => !settings.SLACK_BOT_TOKEN || settings.APPROVAL_TOKEN_SECRET, {
    message: 'APPROVAL_TOKEN_SECRET is not set: Slack replies sign approval buttons with it (the same secret as the ingress)',
    path: ['APPROVAL_TOKEN_SECRET'],
  });

export type SlackReplySettings = z.infer<typeof slackReplySettingsSchema>;

/** The Slack adapter the settings describe, or undefined when `SLACK_BOT_TOKEN` is not set. */
export function slackReplyAdapterFromEnv(env: NodeJS.ProcessEnv = process.env): ReplyAdapter | undefined {
  const settings = loadSettingsFrom(slackReplySettingsSchema, env, 'Slack reply');
  if (!settings.SLACK_BOT_TOKEN) return undefined;
  return createSlackReplyAdapter({
    client: createSlackWebClient({ token: settings.SLACK_BOT_TOKEN, ...(settings.SLACK_API_URL ? { apiUrl: settings.SLACK_API_URL } : {}) }),
    approvalTokenSecret: settings.APPROVAL_TOKEN_SECRET as string,
    statusIntervalMs: settings.SLACK_STATUS_INTERVAL_MS,
  });
}
