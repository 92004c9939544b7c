import type { Client } from '@temporalio/client';
import * as z from 'zod';
import {
  ChatScheduleRefusal,
  createChatSchedule,
  deleteChatSchedule,
  listChatSchedules,
  MAX_SCHEDULES_PER_PERSON,
} from '../../temporal-client/chat-schedules.ts';
import type { ToolConversation } from '../../core/contracts/tools.ts';
import { defineTool, ToolInputError, type ToolContext } from '../../authoring/define-tool.ts';
import type { Duration } from '../../core/spec.ts';
import type { TriggerDelivery } from '../../core/triggers.ts';

export interface ScheduleToolsOptions {
  /** Temporal client the worker connected with; its credentials must allow schedule management. */
  client: Client;
  /** The agents' task queue: where the schedules start ambient runs. */
  taskQueue: string;
  /** The installation's name in the namespace (`AGENTS_DEPLOYMENT`): in the schedules' ids and memos. @default the task queue */
  deployment?: string;
  /** @default MAX_SCHEDULES_PER_PERSON (10) */
  maxPerPerson?: number;
}

/**
 * Schedules from chat: `create_schedule` (a person's approval first, always), `list_my_schedules`
 * and `delete_schedule`. Who asks, and where results go, come from the run's conversation
 * (trusted context the workflow passes), never from the model's arguments: a schedule belongs
 * to the person who asked, posts to the conversation's Slack channel (or emails that person),
 * and only they can stop it.
 */
export function createScheduleTools(options: ScheduleToolsOptions) {
  const limit = options.maxPerPerson ?? MAX_SCHEDULES_PER_PERSON;

  const createSchedule = defineTool({
    name: 'create_schedule',
    description: [
      "Makes a recurring schedule that runs you with a prompt and posts the answer where this conversation is (its Slack channel, or the asker's email).",
      'Use it when someone asks for something "every …" or "remind me every …". The person who asked must approve it first, and only they can stop it.',
      `Give exactly one of cron and every. Each person may have at most ${limit} schedules.`,
    ].join(' '),
    input: z.object({
      cron: z
        .string()
        .max(100)
        .optional()
        .describe(
          'Five-field cron (minute hour day-of-month month day-of-week), e.g. "0 8 * * 1-5" for weekdays at 08:00, "0 9 * * 1" for Mondays at 09:00.',
        ),
      every: z.string().max(40).optional().describe('An interval instead of a cron, e.g. "30 minutes", "2 hours"; at least "1 minute".'),
      timezone: z.string().max(64).optional().describe('IANA time zone the cron is read in, e.g. "Europe/Paris"; default "UTC".'),
      prompt: z
        .string()
        .min(1)
        .max(2_000)
        .describe('What to do at each run, as an instruction, e.g. "Post the active weather alerts for CA."'),
    }),
    timeout: '30 seconds',
    approval: true,
    async handler({ cron, every, timezone, prompt }, context) {
      const conversation = requireConversation(context);
      const owner = soleRequester(conversation);
      const created = await refusalsAsInputErrors(() =>
        createChatSchedule(
          { ...options, maxPerPerson: limit },
          {
            agent: conversation.agent,
            owner,
            conversationId: conversation.conversationId,
            requestKey: context.idempotencyKey ?? crypto.randomUUID(),
            trigger: {
              ...(cron === undefined ? {} : { cron }),
              // Checked as a duration by the trigger validation, like a definition's.
              ...(every === undefined ? {} : { every: every as Duration }),
              ...(timezone === undefined ? {} : { timezone }),
              prompt,
              deliver: deliveryFor(conversation, owner),
            },
          },
        ),
      );
      return { created, stop: `Only ${owner} can stop it: delete_schedule with id "${created.id}".` };
    },
  });

  const listMySchedules = defineTool({
    name: 'list_my_schedules',
    readOnly: true,
    description: 'Lists the schedules the person asking made in chat: id, when, time zone, prompt, where it posts, next run.',
    input: z.object({}),
    timeout: '30 seconds',
    async handler(_args, context) {
      const owner = soleRequester(requireConversation(context));
      const schedules = await listChatSchedules(options, [owner]);
      return { owners: [owner], count: schedules.length, limit, schedules };
    },
  });

  const deleteSchedule = defineTool({
    name: 'delete_schedule',
    description: "Stops and deletes a schedule the person asking made in chat. Someone else's schedule is refused.",
    input: z.object({
      id: z
        .string()
        .min(1)
        .max(200)
        .describe('The schedule id from list_my_schedules, e.g. "ambient:assistant:chat-1a2b3c4d" (or just "chat-1a2b3c4d").'),
    }),
    timeout: '30 seconds',
    async handler({ id }, context) {
      const owner = soleRequester(requireConversation(context));
      return refusalsAsInputErrors(() => deleteChatSchedule(options, id.trim(), [owner]));
    },
  });

  return [createSchedule, listMySchedules, deleteSchedule];
}

function requireConversation(context: ToolContext): ToolConversation {
  if (!context.conversation)
    throw new ToolInputError('Schedules are managed from a conversation (Slack or email); this run answers none.', 'NoConversation');
  return context.conversation;
}

/**
 * A schedule tool acts for one person: the only author of the turn. A turn that answers a
 * batch (Bob wrote while Alice's message waited) cannot tell whose message a call answers,
 * so it acts for nobody: otherwise Bob's "stop it" would stop Alice's schedule.
 */
function soleRequester(conversation: ToolConversation): string {
  const [owner, ...others] = conversation.requesters;
  if (owner === undefined) throw new ToolInputError('Nobody asked in this run (a scheduled run cannot manage schedules).', 'NoRequester');
  if (others.length > 0) {
    throw new ToolInputError(
      `Several people wrote in this turn (${conversation.requesters.join(', ')}); schedules are managed for one person at a time, so ask again alone.`,
      'SeveralRequesters',
    );
  }
  return owner;
}

/** Runs post where the conversation is: its Slack channel, or the asker's inbox. */
function deliveryFor(conversation: ToolConversation, owner: string): TriggerDelivery {
  const { channel } = conversation;
  if (channel.kind === 'slack') return { kind: 'slack', channel: channel.channelId, ...(channel.teamId ? { team: channel.teamId } : {}) };
  if (channel.kind === 'email') return { kind: 'email', to: [owner] };
  throw new ToolInputError(
    `Scheduled runs post to Slack or email; this conversation answers in ${channel.kind === 'none' ? 'no channel' : `the ${channel.kind}`}.`,
    'NoDelivery',
  );
}

async function refusalsAsInputErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ChatScheduleRefusal) throw new ToolInputError(error.message, error.type);
    throw error;
  }
}
