import type { WebClient } from '@slack/web-api';
import * as z from 'zod';
import type { ReplyChannel } from '../../core/conversation.ts';
import type { RecordFiles } from '../../store/record-files.ts';
import { createRecordStore, sha256Hex } from '../../store/record-store.ts';
import type { ApprovalEnded, ApprovalRequest, TurnStatus } from './reply-channel.ts';
import { escapeSlackText } from './markdown.ts';
import { slackErrorCode, type SlackCaller } from './slack-client.ts';

type SlackChannel = Extract<ReplyChannel, { kind: 'slack' }>;

/** A task card as `chat.appendStream` takes it (`task_update` chunk, docs.slack.dev/reference/methods/chat.appendStream). */
const taskCardSchema = z.object({
  type: z.literal('task_update'),
  id: z.string(),
  title: z.string(),
  status: z.enum(['pending', 'in_progress', 'complete', 'error']),
  details: z.string().optional(),
  output: z.string().optional(),
});
type TaskCard = z.infer<typeof taskCardSchema>;

/** The steps message of one turn, as recorded: a worker that takes over finds it and the cards still open. */
const stepsRecordSchema = z.object({ ts: z.string(), startedAt: z.number(), open: z.array(taskCardSchema).optional() });
type StepsRecord = z.infer<typeof stepsRecordSchema>;

export interface TaskStepsOptions {
  client: WebClient;
  callSlack: SlackCaller;
  /** Where each turn's steps message is recorded, so a retry on another worker appends to it. @default in process only */
  records?: RecordFiles;
  /** Age after which a steps stream is not appended to any more (Slack closes streams after about five minutes). @default 270000 ms */
  streamLimitMs?: number;
  now: () => number;
}

export interface TaskSteps {
  show(channel: SlackChannel, key: string, status: TurnStatus): Promise<void>;
  approvalEnded(channel: SlackChannel, request: ApprovalRequest, ended: ApprovalEnded): Promise<void>;
}

/** Longest text Slack takes in a card's details or output. */
const MAX_TASK_TEXT = 256;

/** A tool's output as a card shows it: one line, no mentions or links Slack would parse, within Slack's limit. */
function cardText(text: string): string {
  const escaped = escapeSlackText(text.replace(/\s+/g, ' ').trim());
  // A cut never leaves half an entity.
  return escaped.length <= MAX_TASK_TEXT ? escaped : `${escaped.slice(0, MAX_TASK_TEXT - 1).replace(/&[a-z]*$/, '')}…`;
}

/**
 * A turn's tool steps and approvals as task cards (`task_update` chunks) in one streamed
 * message of its thread: each step's card starts `in_progress` and turns `complete` (or
 * `error`) with a short output when its call finishes, or `complete` when the turn moves on
 * first; an approval's card waits as `pending` and ends with its outcome. A card is
 * named by the step, so sending it again (a retried status) updates the same card: each step
 * arrives once. The message's ts is recorded by turn, so a worker that takes over after a
 * crash appends to the same message.
 */
export function createTaskSteps(options: TaskStepsOptions): TaskSteps {
  const { client, callSlack, now } = options;
  const streamLimitMs = options.streamLimitMs ?? 270_000;
  const messages = new Map<string, StepsRecord>();
  /** Cards shown in_progress or pending, per turn: the next status settles them. */
  const open = new Map<string, Map<string, TaskCard>>();
  /** Approval request → turn key, for `approvalEnded`, which names only the request. */
  const approvalTurns = new Map<string, string>();

  const records =
    options.records &&
    createRecordStore(options.records, { path: (key: string) => `slack-steps/${sha256Hex(key)}.json`, schema: stepsRecordSchema });

  async function recorded(key: string): Promise<StepsRecord | undefined> {
    const known = messages.get(key);
    if (known) return known;
    const found = await records?.get(key);
    if (found === undefined) return undefined;
    messages.set(key, found);
    // Cards an earlier worker left open: the next status settles them here.
    if (!open.has(key) && found.open?.length) open.set(key, new Map(found.open.map((card) => [card.id, card])));
    return found;
  }

  async function remember(key: string, record: Omit<StepsRecord, 'open'>): Promise<void> {
    const withOpen: StepsRecord = { ...record, open: [...(open.get(key)?.values() ?? [])] };
    messages.set(key, withOpen);
    await records?.put(key, withOpen);
  }

  /** Starts the steps message with `cards`; outside a DM the stream names who asked. */
  async function start(channel: SlackChannel, key: string, cards: TaskCard[]): Promise<void> {
    const recipient =
      channel.channelId.startsWith('D') || !channel.recipientUserId
        ? {}
        : { recipient_user_id: channel.recipientUserId, recipient_team_id: channel.teamId };
    const started = await callSlack('chat.startStream', () =>
      client.chat.startStream({
        channel: channel.channelId,
        thread_ts: channel.threadTs,
        chunks: cards as never,
        task_display_mode: 'timeline',
        ...recipient,
      }),
    );
    if (!started.ts) throw new Error('Slack chat.startStream answered without a ts');
    await remember(key, { ts: started.ts, startedAt: now() });
  }

  /** Sends cards to the turn's steps message: appended while it streams, else in a new one. */
  async function send(channel: SlackChannel, key: string, cards: TaskCard[]): Promise<void> {
    if (cards.length === 0) return;
    const message = await recorded(key);
    if (message && now() - message.startedAt < streamLimitMs) {
      try {
        await callSlack('chat.appendStream', () =>
          client.chat.appendStream({ channel: channel.channelId, ts: message.ts, chunks: cards as never }),
        );
        await remember(key, { ts: message.ts, startedAt: message.startedAt });
        return;
      } catch (error) {
        // Slack closed it (its limit, a person's stop click): the turn's next cards go in a new message.
        if (slackErrorCode(error) !== 'message_not_in_streaming_state') throw error;
      }
    }
    await start(channel, key, cards);
  }

  /** Cards still open for the turn, settled as `status`. */
  function settle(key: string, status: TaskCard['status'], output?: string, except?: string): TaskCard[] {
    const cards = open.get(key);
    if (!cards) return [];
    const settled: TaskCard[] = [];
    for (const [id, card] of cards) {
      if (id === except) continue;
      cards.delete(id);
      settled.push({ ...card, status, ...(output ? { output } : {}) });
    }
    return settled;
  }

  function opened(key: string, card: TaskCard): TaskCard {
    const cards = open.get(key) ?? new Map<string, TaskCard>();
    open.set(key, cards);
    cards.set(card.id, card);
    return card;
  }

  return {
    async show(channel, key, status) {
      if (status.state === 'closed') return;
      // What an earlier worker recorded comes first: its open cards are settled here.
      await recorded(key);
      switch (status.state) {
        case 'tool': {
          const id = `step-${status.step}-${status.tool}`.slice(0, 255);
          const card: TaskCard = {
            type: 'task_update',
            id,
            title: status.tool.slice(0, MAX_TASK_TEXT),
            status: 'in_progress',
            details: `Step ${status.step}`,
          };
          if (status.output) {
            // The step's call finished: its card settles with what it gave (the same card if it was shown running).
            open.get(key)?.delete(id);
            const settled: TaskCard = {
              ...card,
              status: status.output.ok ? 'complete' : 'error',
              output: cardText(status.output.ok ? status.output.text : `Failed: ${status.output.text}`),
            };
            return send(channel, key, [...settle(key, 'complete'), settled]);
          }
          return send(channel, key, [...settle(key, 'complete', undefined, id), opened(key, card)]);
        }
        case 'thinking':
          return send(channel, key, settle(key, 'complete'));
        case 'waiting_for_approval': {
          approvalTurns.set(status.requestId, key);
          const card = opened(key, {
            type: 'task_update',
            id: `approval-${status.requestId}`.slice(0, 255),
            title: `Approval to run ${status.tool}`.slice(0, MAX_TASK_TEXT),
            status: 'pending',
            details: 'Waiting for a person to decide',
          });
          return send(channel, key, [card]);
        }
        case 'done':
        case 'stopped': {
          const cards = status.state === 'done' ? settle(key, 'complete') : settle(key, 'error', 'Stopped before it finished');
          await send(channel, key, cards);
          const message = await recorded(key);
          if (!message) return;
          try {
            await callSlack('chat.stopStream', () => client.chat.stopStream({ channel: channel.channelId, ts: message.ts }));
          } catch (error) {
            if (slackErrorCode(error) !== 'message_not_in_streaming_state') throw error;
          }
          return;
        }
      }
    },

    async approvalEnded(channel, request, ended) {
      const key = approvalTurns.get(request.requestId);
      // Another worker asked: the turn's next status settles the card.
      if (!key) return;
      const id = `approval-${request.requestId}`.slice(0, 255);
      open.get(key)?.delete(id);
      const [status, output]: [TaskCard['status'], string] =
        ended.outcome === 'approved'
          ? ['complete', `Approved by ${ended.by}`]
          : ended.outcome === 'denied'
            ? ['error', `Denied by ${ended.by}`]
            : ended.outcome === 'timed_out'
              ? ['error', 'Nobody decided in time']
              : ['error', 'The turn ended before anyone decided'];
      await send(channel, key, [
        {
          type: 'task_update',
          id,
          title: `Approval to run ${request.tool}`.slice(0, MAX_TASK_TEXT),
          status,
          output: output.slice(0, MAX_TASK_TEXT),
        },
      ]);
    },
  };
}
