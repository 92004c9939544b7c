import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { localActivityOf } from '../core/local-activity-marker.ts';
import { percentile, round } from './report.ts';

type Event = temporal.api.history.v1.IHistoryEvent;

/**
 * Where a run's time goes, from its history's event times: how long tasks wait to be picked
 * up (schedule-to-start) and how long they run, per kind, as p50/p95 in milliseconds.
 */
export async function taskLatencies(handles: WorkflowHandle[]): Promise<Record<string, { p50_ms: number; p95_ms: number; count: number }>> {
  const samples: Record<string, number[]> = {};
  const add = (kind: string, ms: number) => (samples[kind] ??= []).push(ms);
  for (const handle of handles) {
    const events = (await handle.fetchHistory()).events ?? [];
    const byId = new Map<string, Event>(events.map((event) => [String(event.eventId), event]));
    const typeOf = (scheduledId: unknown) => byId.get(String(scheduledId))?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
    for (const event of events) {
      const started = event.activityTaskStartedEventAttributes;
      if (started)
        add(`${kind(typeOf(started.scheduledEventId))} wait`, millis(event) - millis(byId.get(String(started.scheduledEventId))));
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed)
        add(`${kind(typeOf(completed.scheduledEventId))} run`, millis(event) - millis(byId.get(String(completed.startedEventId))));
      const taskStarted = event.workflowTaskStartedEventAttributes;
      // The first task of a run waits behind every other run started at once; later ones show the steady state.
      if (taskStarted)
        add(
          Number(event.eventId) <= 3 ? 'first workflow task wait' : 'workflow task wait',
          millis(event) - millis(byId.get(String(Number(event.eventId) - 1))),
        );
      if (event.workflowTaskTimedOutEventAttributes) add('workflow task timed out (count)', 0);
      if (event.workflowTaskFailedEventAttributes) add('workflow task failed (count)', 0);
      if (event.activityTaskTimedOutEventAttributes) add('activity timed out (count)', 0);
      const taskCompleted = event.workflowTaskCompletedEventAttributes;
      if (taskCompleted) add('workflow task run', millis(event) - millis(byId.get(String(taskCompleted.startedEventId))));
      // A local activity runs inside a workflow task: its marker says when the worker scheduled it
      // (wall clock), which splits the task into before the call and the call with what follows.
      const local = localActivityOf(event);
      const task = byId.get(String(event.markerRecordedEventAttributes?.workflowTaskCompletedEventId));
      if (local?.scheduledAt !== undefined && task?.workflowTaskCompletedEventAttributes) {
        add(
          `${kind(local.activityType)} (local): task start to call`,
          local.scheduledAt - millis(byId.get(String(task.workflowTaskCompletedEventAttributes.startedEventId))),
        );
        add(`${kind(local.activityType)} (local): call to task completed`, millis(task) - local.scheduledAt);
      }
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, values]) => [
      name,
      { p50_ms: round(percentile(values, 50)), p95_ms: round(percentile(values, 95)), count: values.length },
    ]),
  );
}

function kind(activityType: string): string {
  if (activityType === 'callModel') return 'model activity';
  if (activityType.startsWith('tool:')) return 'tool activity';
  return `${activityType} activity`;
}

function millis(event: Event | undefined): number {
  const time = event?.eventTime;
  if (!time) return Number.NaN;
  return Number(time.seconds ?? 0) * 1000 + (time.nanos ?? 0) / 1e6;
}
