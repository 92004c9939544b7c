import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

export interface HistorySummary {
  /** Activity types in the order they were scheduled. */
  scheduled: string[];
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
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      failedAttempts += Math.max(0, (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
    }
  }
  return { scheduled, completed, failedAttempts, events };
}
