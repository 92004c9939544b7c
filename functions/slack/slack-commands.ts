import * as z from 'zod';
import type { InboundEvent } from '../../events/inbound-event.ts';
import { requireShape } from './request-body.ts';
import { slackInboundEvent } from './slack-inbound-event.ts';
import { slackPlainText } from './slack-post.ts';

/** What the slash-command endpoint does: Slack shows a `reply` to the user who typed it. */
export type SlackCommandOutcome = { type: 'ssl-check' } | { type: 'reply'; text: string } | { type: 'start'; command: SlackCommand };

export interface SlackCommandOptions {
  defaultAgent: string;
  now: () => number;
}

/** Characters of a command's text accepted; Slack itself sends at most a few thousand. */
export const MAX_COMMAND_TEXT = 4000;

const slackId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'expected a Slack id' });
const commandSchema = z.object({
  command: z.string().regex(/^\/[\w.-]{1,32}$/, { message: 'expected a command such as /agent' }),
  text: z.string().default(''),
  team_id: slackId,
  channel_id: slackId,
  user_id: slackId,
  user_name: z.string().max(200).optional(),
  trigger_id: z.string().min(1).max(256),
  response_url: z.url({ protocol: /^https$/, message: 'expected an https URL' }).max(2000),
});
export type SlackCommand = z.infer<typeof commandSchema>;

/**
 * `/agent <text>` starts a new conversation. A command has no message of its own to thread
 * under, so the edge posts one (see `commandRootText`) and the conversation is that
 * message's thread: the answer lands under it, and replies there continue it.
 */
export function normaliseSlackCommand(form: Map<string, string>): SlackCommandOutcome {
  if (form.get('ssl_check') === '1') return { type: 'ssl-check' };
  const command = requireShape(commandSchema, Object.fromEntries(form), 'command');
  const text = command.text.trim();
  if (text === '') return { type: 'reply', text: `Usage: ${command.command} <what you want the agent to do>` };
  if (text.length > MAX_COMMAND_TEXT)
    return {
      type: 'reply',
      text: `That is ${text.length} characters; a command takes at most ${MAX_COMMAND_TEXT}. Write to the agent in a message instead.`,
    };
  return { type: 'start', command: { ...command, text } };
}

/** The root message: who asked what, as plain text that mentions nobody. */
export function commandRootText(command: SlackCommand): string {
  return `${slackPlainText(command.user_name ?? 'Someone')} asked with ${slackPlainText(command.command)}: ${slackPlainText(command.text)}`;
}

/** The event of a command whose root message is `rootTs`. */
export function commandEvent(command: SlackCommand, rootTs: string, options: SlackCommandOptions): InboundEvent {
  const place = {
    teamId: command.team_id,
    channelId: command.channel_id,
    threadTs: rootTs,
    ts: rootTs,
    responseUrl: command.response_url,
    triggerId: command.trigger_id,
  };
  const user = { id: command.user_id, ...(command.user_name ? { name: command.user_name } : {}) };
  return slackInboundEvent(
    place,
    {
      id: `slack-command:${command.team_id}:${command.trigger_id}`,
      kind: 'message',
      agent: options.defaultAgent,
      user,
      text: command.text,
    },
    options.now,
  );
}

/** What the person who typed the command reads when no conversation could start. */
export function commandFailureText(error: string): string {
  if (error === 'not_in_channel' || error === 'channel_not_found') {
    return 'I cannot post in this conversation. Invite me to the channel (`/invite @agent`), or write to me directly.';
  }
  return `I could not start on that (Slack said: ${error}). Please try again.`;
}
