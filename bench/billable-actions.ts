import proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';
import { LOCAL_ACTIVITY_MARKER } from '../core/local-activity-marker.ts';

/**
 * Temporal Cloud's billable Actions, counted from a workflow's event history by the rules
 * Temporal publishes (docs.temporal.io/cloud/actions, read 2026-12-07):
 *
 * - workflow started: 1 (client start, continue-as-new's new run); a child workflow costs 2,
 *   counted on the parent's `StartChildWorkflowExecutionInitiated` (intent and attempt), so the
 *   child's own start event counts nothing; a run a schedule started costs 3 (2 for the
 *   schedule's start, 1 for the workflow);
 * - activity scheduled: 1, and 1 per retry (`ActivityTaskStarted.attempt` − 1);
 * - local activities: 1 per workflow task that recorded any (its markers together), plus
 *   the task's `meteringMetadata.nonfirstLocalActivityExecutionAttempts`;
 * - timer started, signal received, update accepted, search attributes upserted (except
 *   upserts of `TemporalChangeVersion` alone, which `patched()` makes), workflow options
 *   updated: 1 each.
 *
 * Not in history and so not counted: queries, activity heartbeats that reach the server,
 * workflow task heartbeats, rejected updates, schedule creation and updates.
 */

const { EventType } = proto.temporal.api.enums.v1;
type Event = temporal.api.history.v1.IHistoryEvent;

export type ActionKind =
  | 'workflow'
  | 'child_workflow'
  | 'schedule'
  | 'activity'
  | 'activity_retry'
  | 'local_activities'
  | 'local_activity_retry'
  | 'timer'
  | 'signal'
  | 'update'
  | 'search_attributes'
  | 'options';

export interface ActionCount {
  total: number;
  byKind: Partial<Record<ActionKind, number>>;
}

export function billableActions(events: readonly Event[]): ActionCount {
  const byKind: Partial<Record<ActionKind, number>> = {};
  const add = (kind: ActionKind, count = 1) => {
    if (count > 0) byKind[kind] = (byKind[kind] ?? 0) + count;
  };
  const tasksWithMarkers = new Set<string>();
  for (const event of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const started = event.workflowExecutionStartedEventAttributes;
        if (started?.parentWorkflowExecution?.workflowId) break;
        add('workflow');
        if (started?.searchAttributes?.indexedFields?.TemporalScheduledById) add('schedule', 2);
        break;
      }
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        add('child_workflow', 2);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        add('activity');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        add('activity_retry', (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        const marker = event.markerRecordedEventAttributes;
        if (marker?.markerName === LOCAL_ACTIVITY_MARKER) tasksWithMarkers.add(String(marker.workflowTaskCompletedEventId));
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        add(
          'local_activity_retry',
          Number(event.workflowTaskCompletedEventAttributes?.meteringMetadata?.nonfirstLocalActivityExecutionAttempts ?? 0),
        );
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        add('timer');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        add('signal');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        add('update');
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const keys = Object.keys(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
        if (keys.some((key) => key !== 'TemporalChangeVersion')) add('search_attributes');
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
        add('options');
        break;
      default:
        break;
    }
  }
  add('local_activities', tasksWithMarkers.size);
  return { total: Object.values(byKind).reduce((sum, count) => sum + count, 0), byKind };
}

/** Sums counts (the histories of one conversation: the conversation's and its turns'). */
export function sumActions(counts: readonly ActionCount[]): ActionCount {
  const byKind: Partial<Record<ActionKind, number>> = {};
  for (const count of counts)
    for (const [kind, value] of Object.entries(count.byKind) as [ActionKind, number][]) byKind[kind] = (byKind[kind] ?? 0) + value;
  return { total: counts.reduce((sum, count) => sum + count.total, 0), byKind };
}

/** Temporal Cloud's list price for Actions, first tier (docs.temporal.io/cloud/pricing, read 2026-12-07). */
export const LIST_PRICE_USD_PER_MILLION_ACTIONS = 50;

export function priceUsd(actions: number): number {
  return (actions * LIST_PRICE_USD_PER_MILLION_ACTIONS) / 1_000_000;
}
