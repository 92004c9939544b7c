import { condition, defineQuery, defineUpdate, setHandler } from '@temporalio/workflow';
import { pushBounded, setNewest } from '../core/bounded.ts';
import { MESSAGE_UPDATE, TURNS_QUERY, type IncomingMessage, type MessageAccepted, type TurnSummary } from '../core/conversation.ts';
import type { ConversationState } from './conversation-state.ts';
import { activeTraceContext, type TraceContext } from './trace-context.ts';

export const messageUpdate = defineUpdate<MessageAccepted, [IncomingMessage]>(MESSAGE_UPDATE);
export const turnsQuery = defineQuery<TurnSummary[]>(TURNS_QUERY);

/** Messages that may wait for the next turn; more are refused by the update's validator. */
const MAX_QUEUED_MESSAGES = 50;
/** Message ids remembered for dedupe, carried across continue-as-new (and saved between runs). */
const MAX_REMEMBERED_MESSAGE_IDS = 256;
/** Turn summaries kept for the `turns` query. */
const MAX_TURNS_KEPT = 50;

/** A message waiting for its turn. */
export interface QueuedMessage {
  message: IncomingMessage;
  turn: number;
}

/** What intake carries across continue-as-new. */
export interface CarriedIntake {
  queue: QueuedMessage[];
  recentMessageIds: [id: string, turn: number][];
  turnSummaries: TurnSummary[];
}

export interface Intake {
  /** Messages waiting for the next turn, oldest first. */
  queue: QueuedMessage[];
  /** Turn summaries for the `turns` query, oldest first. */
  summaries: TurnSummary[];
  /** The summary of `turn`, created as queued when it is new. */
  summaryOf(turn: number): TurnSummary;
  /** Remembers ids that landed earlier (saved by a closed run of this conversation). */
  remember(entries: Iterable<[id: string, turn: number]>): void;
  /** The remembered ids and their turns, oldest first. */
  recentMessageIds(): [id: string, turn: number][];
  /** The trace context the message's update ran in (its own trace); none for messages carried across continue-as-new. */
  traceContextOf(queued: QueuedMessage): TraceContext | undefined;
}

/**
 * Messages arrive as the `message` update, whose id is the source event id: a Slack retry or
 * an SQS redelivery finds its id remembered and gets the turn it landed in, without queuing
 * again. Remembered ids travel across continue-as-new and are saved between runs.
 */
export function openIntake(state: ConversationState, carried: CarriedIntake | undefined): Intake {
  const queue = carried?.queue ?? [];
  const summaries = carried?.turnSummaries ?? [];
  const recent = new Map<string, number>();
  const remember: Intake['remember'] = (entries) => {
    for (const [id, turn] of entries) setNewest(recent, id, turn, MAX_REMEMBERED_MESSAGE_IDS);
  };
  remember(carried?.recentMessageIds ?? []);

  const summaryOf = (turn: number): TurnSummary => {
    let summary = summaries.find((candidate) => candidate.turn === turn);
    if (!summary) {
      summary = { turn, messageIds: [], status: 'queued' };
      pushBounded(summaries, summary, MAX_TURNS_KEPT);
    }
    return summary;
  };

  // Kept beside the queue, never in it: the queue is carried across continue-as-new as it is.
  const traceContexts = new WeakMap<QueuedMessage, TraceContext>();

  setHandler(
    messageUpdate,
    async (message) => {
      // The update's span, read before the first await.
      const traceContext = activeTraceContext();
      await condition(() => state.ready);
      const known = recent.get(message.id);
      if (known !== undefined) return { duplicate: true, turn: known };
      const turn = state.turns + 1;
      const queued = { message, turn };
      queue.push(queued);
      if (traceContext !== undefined) traceContexts.set(queued, traceContext);
      setNewest(recent, message.id, turn, MAX_REMEMBERED_MESSAGE_IDS);
      summaryOf(turn).messageIds.push(message.id);
      return { duplicate: false, turn };
    },
    {
      validator: (message) => {
        if (typeof message?.id !== 'string' || message.id === '') throw new Error('A message needs an id: the source event id.');
        if (typeof message.text !== 'string') throw new Error(`Message ${message.id} has no text.`);
        if (typeof message.user?.id !== 'string' || message.user.id === '') throw new Error(`Message ${message.id} names no user.`);
        if (queue.length >= MAX_QUEUED_MESSAGES && !recent.has(message.id)) {
          throw new Error(
            `${MAX_QUEUED_MESSAGES} messages are already waiting in this conversation; send this one after the current turn.`,
          );
        }
      },
    },
  );
  setHandler(turnsQuery, () => summaries);

  return {
    queue,
    summaries,
    summaryOf,
    remember,
    recentMessageIds: () => [...recent],
    traceContextOf: (queued) => traceContexts.get(queued),
  };
}
