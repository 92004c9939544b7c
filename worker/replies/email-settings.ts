import { SESv2Client } from '@aws-sdk/client-sesv2';
import * as z from 'zod';
import { loadSettingsFrom, optionalText } from '../../core/load-settings.ts';
import type { ReplyAdapter } from './reply-channel.ts';
import { createEmailReplyAdapter } from './email.ts';

/**
 * Settings of email replies; without `EMAIL_REPLY_TOKEN_SECRET` the worker answers no email.
 * SES is reached with the SDK's usual settings (`AWS_REGION`, `AWS_ENDPOINT_URL_SESV2` for a
 * local stand-in).
 */
export const emailReplySettingsSchema = z
  .object({
    /** Signs the Reply-To plus-address; the ingress checks it. */
    EMAIL_REPLY_TOKEN_SECRET: optionalText,
    /** Makes the approval reply codes; the dispatcher checks them. */
    APPROVAL_TOKEN_SECRET: optionalText,
    /** SES configuration set for replies. @default none */
    EMAIL_CONFIGURATION_SET: optionalText,
  })
  .refine((settings) => !settings.EMAIL_REPLY_TOKEN_SECRET || settings.APPROVAL_TOKEN_SECRET, {
    message: 'APPROVAL_TOKEN_SECRET is not set: email approval requests carry a code made with it (the same secret as the dispatcher)',
    path: ['APPROVAL_TOKEN_SECRET'],
  });

/** The email adapter the settings describe, or undefined when `EMAIL_REPLY_TOKEN_SECRET` is not set. */
export function emailReplyAdapterFromEnv(env: NodeJS.ProcessEnv = process.env, ses?: SESv2Client): ReplyAdapter | undefined {
  const settings = loadSettingsFrom(emailReplySettingsSchema, env, 'email reply');
  if (!settings.EMAIL_REPLY_TOKEN_SECRET) return undefined;
  return createEmailReplyAdapter({
    ses: ses ?? new SESv2Client({}),
    replyTokenSecret: settings.EMAIL_REPLY_TOKEN_SECRET,
    approvalSecret: settings.APPROVAL_TOKEN_SECRET as string,
    ...(settings.EMAIL_CONFIGURATION_SET ? { configurationSetName: settings.EMAIL_CONFIGURATION_SET } : {}),
  });
}
