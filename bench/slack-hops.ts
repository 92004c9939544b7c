import proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';
import { LOAD_CONVERSATION_ACTIVITY } from '../core/contracts/conversations.ts';
import { REPLY_STATUS_ACTIVITY } from '../core/contracts/replies.ts';

const { EventType } = proto.temporal.api.enums.v1;
type Event = temporal.api.history.v1.IHistoryEvent;

/** The model call activity's type (agentRun's `callModel`). */
const MODEL_CALL_ACTIVITY = 'callModel';

/**
 * Moments of one Slack message's way to its status and its answer, read from the
 * conversation's history and its first turn's (a new thread: update-with-start starts the
 * conversation), in milliseconds since the epoch. The server stamps them; the bench's own
 * clock stamps the edge's 200 and what the Slack stand-in received, on the same machine.
 */
export interface HistoryMoments {
  /** The conversation started: the dispatcher's update-with-start reached the server. */
  conversationStarted?: number;
  /** Its first workflow task handed to the worker. */
  firstTaskStarted?: number;
  /** The message update accepted (the first workflow task completed). */
  updateAccepted?: number;
  /** `conversation:load` done: the update's handler waits for it before it answers. */
  loadCompleted?: number;
  /** The message update completed: what the dispatcher's `executeUpdateWithStart` waits for. */
  updateCompleted?: number;
  /** The "thinking" status activity scheduled, then handed to the worker. */
  statusScheduled?: number;
  statusStarted?: number;
  /** The turn's child workflow started. */
  turnStarted?: number;
  /** The model call that writes the answer (the turn's last) scheduled, then handed to the worker. */
  answerCallScheduled?: number;
  answerCallStarted?: number;
}

export function historyMoments(conversation: Event[], turn: Event[]): HistoryMoments {
  const moments: HistoryMoments = {};
  const first = (events: Event[], type: number) => events.find((event) => event.eventType === type);
  const set = (key: keyof HistoryMoments, event: Event | undefined) => {
    if (event) moments[key] = eventTime(event);
  };
  set('conversationStarted', first(conversation, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED));
  set('firstTaskStarted', first(conversation, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED));
  set('updateAccepted', first(conversation, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED));
  set('updateCompleted', first(conversation, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED));
  set('turnStarted', first(turn, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED));
  const load = activity(conversation, LOAD_CONVERSATION_ACTIVITY, 'first');
  set('loadCompleted', load.completed);
  const status = activity(conversation, REPLY_STATUS_ACTIVITY, 'first');
  set('statusScheduled', status.scheduled);
  set('statusStarted', status.started);
  const answer = activity(turn, MODEL_CALL_ACTIVITY, 'last');
  set('answerCallScheduled', answer.scheduled);
  set('answerCallStarted', answer.started);
  return moments;
}

/** An activity's scheduled, started and completed events (its first or last of that type). */
function activity(events: Event[], type: string, which: 'first' | 'last'): { scheduled?: Event; started?: Event; completed?: Event } {
  const scheduled = events.filter(
    (event) =>
      event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
      event.activityTaskScheduledEventAttributes?.activityType?.name === type,
  );
  const chosen = which === 'first' ? scheduled[0] : scheduled.at(-1);
  if (!chosen) return {};
  const id = String(chosen.eventId);
  const of = (event: Event) =>
    String(event.activityTaskStartedEventAttributes?.scheduledEventId ?? event.activityTaskCompletedEventAttributes?.scheduledEventId) ===
    id;
  return {
    scheduled: chosen,
    started: events.find((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && of(event)),
    completed: events.find((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && of(event)),
  };
}

export function eventTime(event: Event): number {
  return Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
}

/** The bench's clock plus the history's: every moment a hop starts or ends at. */
export type AllMoments = HistoryMoments & { accepted?: number; statusVisible?: number; finished?: number };

/** One hop: from one moment to the next, what it is, and the key it has in results.json. */
export interface Hop {
  key: string;
  label: string;
  from: keyof AllMoments;
  to: keyof AllMoments;
}

/**
 * The hops from the edge's 200 to the status and to the finished answer, in order. Both ways
 * share the start up to the update's completion; then the status is one activity, and the
 * answer is the turn (a child workflow: transcript, model calls, the tool).
 */
export const HOPS: Hop[] = [
  { key: 'queue_and_dispatcher_ms', label: '200 → conversation started (SQS, dispatcher)', from: 'accepted', to: 'conversationStarted' },
  {
    key: 'first_task_wait_ms',
    label: '  → first workflow task handed out (Temporal)',
    from: 'conversationStarted',
    to: 'firstTaskStarted',
  },
  { key: 'first_task_ms', label: '  → update accepted (first workflow task)', from: 'firstTaskStarted', to: 'updateAccepted' },
  { key: 'load_activity_ms', label: '  → conversation:load done (activity)', from: 'updateAccepted', to: 'loadCompleted' },
  {
    key: 'update_completed_ms',
    label: "  → update completed (next task; dispatcher's wait ends)",
    from: 'loadCompleted',
    to: 'updateCompleted',
  },
  { key: 'status_activity_wait_ms', label: '  → status activity handed out', from: 'updateCompleted', to: 'statusStarted' },
  { key: 'status_post_ms', label: '  → status visible (activity, Slack stand-in)', from: 'statusStarted', to: 'statusVisible' },
  { key: 'turn_start_ms', label: 'update completed → turn started (resolveAgent, child)', from: 'updateCompleted', to: 'turnStarted' },
  {
    key: 'turn_to_answer_call_ms',
    label: "  → answer's model call handed out (transcript, model, tool)",
    from: 'turnStarted',
    to: 'answerCallStarted',
  },
  {
    key: 'answer_call_wait_ms',
    label: "     of which the answer's model call waited",
    from: 'answerCallScheduled',
    to: 'answerCallStarted',
  },
  { key: 'answer_stream_ms', label: '  → finished answer visible (model call, stream)', from: 'answerCallStarted', to: 'finished' },
];
