import type { WorkflowHandle } from '@temporalio/client';
import { round } from './report.ts';

/** An event's kind from the one `…EventAttributes` field it sets: `activityTaskScheduled`, `markerRecorded`, … */
function kindOf(event: object): string {
  for (const [key, value] of Object.entries(event))
    if (key.endsWith('EventAttributes') && value) return key.slice(0, -'EventAttributes'.length);
  return 'unknown';
}

/**
 * What a run writes to history per step: its events by kind (`activityTaskScheduled`,
 * `markerRecorded`, …) divided by its model calls, averaged over `handles`. Each
 * workflow task is three events and each activity three more, so the counts name the
 * round trips a step makes.
 */
export async function eventsPerStep(handles: WorkflowHandle[], steps: number): Promise<{ total: number; by_type: Record<string, number> }> {
  const counts: Record<string, number> = {};
  let total = 0;
  for (const handle of handles) {
    const events = (await handle.fetchHistory()).events ?? [];
    total += events.length;
    for (const event of events) {
      const name = kindOf(event);
      counts[name] = (counts[name] ?? 0) + 1;
    }
  }
  const per = Math.max(1, handles.length * steps);
  return {
    total: round(total / per, 2),
    by_type: Object.fromEntries(Object.entries(counts).map(([name, count]) => [name, round(count / per, 2)])),
  };
}
