import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { localActivityOf } from '../core/local-activity-marker.ts';

const EventType = temporal.api.enums.v1.EventType;

export interface HistorySummary {
  /** Activity types in the order they were scheduled (local activities at their marker: in order, as they complete within a task). */
  scheduled: string[];
  /** Activity types that ran as local activities, in order. */
  local: string[];
  /** How many times each activity type completed. */
  completed: Record<string, number>;
  failedAttempts: number;
  events: temporal.api.history.v1.IHistoryEvent[];
}

/** Reads a workflow's history and counts what ran, for assertions on history not just results. */
export async function summariseHistory(handle: WorkflowHandle): Promise<HistorySummary> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const typeByScheduledId = new Map<string, string>();
  const scheduled: string[] = [];
  const local: string[] = [];
  const completed: Record<string, number> = {};
  let failedAttempts = 0;
  for (const event of events) {
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const type = event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      typeByScheduledId.set(String(event.eventId), type);
      scheduled.push(type);
    }
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const type = typeByScheduledId.get(String(event.activityTaskCompletedEventAttributes?.scheduledEventId)) ?? '?';
      completed[type] = (completed[type] ?? 0) + 1;
    }
    const localActivity = localActivityOf(event);
    if (localActivity) {
      scheduled.push(localActivity.activityType);
      local.push(localActivity.activityType);
      if (localActivity.completed) completed[localActivity.activityType] = (completed[localActivity.activityType] ?? 0) + 1;
    }
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      failedAttempts += Math.max(0, (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
    }
  }
  return { scheduled, local, completed, failedAttempts, events };
}
