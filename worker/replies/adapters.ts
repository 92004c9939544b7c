import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { TranscriptStoreSettings } from '../../config/transcript-store-settings.ts';
import { createEmailThreadIndex } from '../../store/email-thread-index.ts';
import { recordFilesFor } from '../../store/record-files.ts';
import { createPostedReplies } from '../../store/posted-replies.ts';
import type { EmailReplySettings, SlackReplySettings } from '../../config/worker-settings.ts';
import { createEmailReplyAdapter } from './email.ts';
import type { ReplyAdapter, ReplyAdapters } from './reply-channel.ts';
import { createSlackWebClient } from './slack-client.ts';
import { createSlackReplyAdapter } from './slack.ts';
import type { AnswerStreams } from './answer-stream.ts';
import { createSlackAnswerStreams } from './slack-stream.ts';

/**
 * The Slack adapter the settings describe, or undefined when `SLACK_BOT_TOKEN` is not set. With
 * the transcript store's settings, what it posts is recorded next to the transcripts (a retry
 * finds it without reading the thread back).
 */
export function slackReplyAdapterFrom(settings: SlackReplySettings, transcripts?: TranscriptStoreSettings): ReplyAdapter | undefined {
  if (!settings.SLACK_BOT_TOKEN) return undefined;
  const records = transcripts ? recordFilesFor(transcripts) : undefined;
  return createSlackReplyAdapter({
    ...(records ? { posted: createPostedReplies(records), stepRecords: records } : {}),
    client: createSlackWebClient({
      token: settings.SLACK_BOT_TOKEN,
      ...(settings.SLACK_API_URL ? { apiUrl: settings.SLACK_API_URL } : {}),
    }),
    // The settings schema refuses a bot token without it.
    approvalTokenSecret: settings.APPROVAL_TOKEN_SECRET as string,
    statusIntervalMs: settings.SLACK_STATUS_INTERVAL_MS,
  });
}

/** Answers streamed into Slack's assistant threads, or undefined when `SLACK_BOT_TOKEN` is not set. */
export function slackAnswerStreamsFrom(settings: SlackReplySettings, transcripts?: TranscriptStoreSettings): AnswerStreams | undefined {
  if (!settings.SLACK_BOT_TOKEN) return undefined;
  return createSlackAnswerStreams({
    ...(transcripts ? { posted: createPostedReplies(transcripts) } : {}),
    client: createSlackWebClient({
      token: settings.SLACK_BOT_TOKEN,
      ...(settings.SLACK_API_URL ? { apiUrl: settings.SLACK_API_URL } : {}),
    }),
    ...(settings.APPROVAL_TOKEN_SECRET ? { feedbackTokenSecret: settings.APPROVAL_TOKEN_SECRET } : {}),
  });
}

/** The email adapter the settings describe, or undefined when `EMAIL_REPLY_TOKEN_SECRET` is not set. */
export function emailReplyAdapterFrom(
  settings: EmailReplySettings,
  ses: SESv2Client = new SESv2Client({}),
  transcripts?: TranscriptStoreSettings,
): ReplyAdapter | undefined {
  if (!settings.EMAIL_REPLY_TOKEN_SECRET) return undefined;
  return createEmailReplyAdapter({
    ses,
    // The thread records sit next to the transcripts, where the email edge reads them.
    ...(transcripts ? { threads: createEmailThreadIndex(transcripts) } : {}),
    replyTokenSecret: settings.EMAIL_REPLY_TOKEN_SECRET,
    // The settings schema refuses a reply token secret without it.
    approvalSecret: settings.APPROVAL_TOKEN_SECRET as string,
    ...(settings.EMAIL_CONFIGURATION_SET ? { configurationSetName: settings.EMAIL_CONFIGURATION_SET } : {}),
  });
}

/** The Slack and email adapters the settings turn on (`none` is always there in the worker). */
export function replyAdaptersFrom(settings: {
  slack: SlackReplySettings;
  email: EmailReplySettings;
  transcripts?: TranscriptStoreSettings;
}): ReplyAdapters {
  const slack = slackReplyAdapterFrom(settings.slack, settings.transcripts);
  const email = emailReplyAdapterFrom(settings.email, undefined, settings.transcripts);
  return { ...(slack ? { slack } : {}), ...(email ? { email } : {}) };
}
