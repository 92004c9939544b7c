import * as z from 'zod';
import { parseInboundEvent, slackConversationId, type InboundEvent } from '../../core/inbound-event.ts';
import { requireShape } from './request-body.ts';

/** What the slash-command endpoint does: Slack shows a `reply` to the user who typed it. */
export type SlackCommandOutcome =
  | { type: 'ssl-check' }
  | { type: 'reply'; text: string }
  | { type: 'event'; event: InboundEvent };

export interface SlackCommandOptions {
  defaultAgent: string;
  now: () => number;
}

const commandSchema = z.object({
  command: z.string().startsWith('/'),
  text: z.string().default(''),
  team_id: z.string().min(1),
  channel_id: z.string().min(1),
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  trigger_id: z.string().min(1),
  response_url: z.url({ protocol: /^https$/, message: 'expected an https URL' }),
});

/**
 * `/agent <text>` starts a new conversation. A command has no message ts, so the
 * conversation is keyed by its trigger id, which Slack makes unique per invocation; the
 * answer can go to `response_url`.
 */
export function normaliseSlackCommand(form: Map<string, string>, options: SlackCommandOptions): SlackCommandOutcome {
  if (form.get('ssl_check') === '1') return { type: 'ssl-check' };
  const command = requireShape(commandSchema, Object.fromEntries(form), 'command');
  const text = command.text.trim();
  if (text === '') return { type: 'reply', text: `Usage: ${command.command} <what you want the agent to do>` };
  return {
    type: 'event',
    event: parseInboundEvent({
      version: 1,
      id: `slack-command:${command.team_id}:${command.trigger_id}`,
      source: 'slack',
      kind: 'message',
      conversationId: slackConversationId(command.team_id, command.channel_id, `command-${command.trigger_id}`),
      agent: options.defaultAgent,
      receivedAt: new Date(options.now()).toISOString(),
      user: { id: command.user_id, ...(command.user_name ? { name: command.user_name } : {}) },
      text,
      slack: {
        teamId: command.team_id,
        channelId: command.channel_id,
        responseUrl: command.response_url,
        triggerId: command.trigger_id,
      },
    }),
  };
}
