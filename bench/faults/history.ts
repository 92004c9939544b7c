import type { Client } from '@temporalio/client';
// A CommonJS package: its named exports are not visible to Node's ESM loader.
import proto from '@temporalio/proto';

const EventType = proto.temporal.api.enums.v1.EventType;

/**
 * What Temporal recorded of one tool's calls in a turn: how many activities it scheduled for
 * the tool, and how many attempts they started (the final attempt number of each, which
 * history writes when the activity closes). Child runs (sub-agents) are walked too.
 */
export async function toolActivityRecord(
  client: Client,
  workflowId: string,
  activityType: string,
): Promise<{ scheduled: number; attempts: number }> {
  let scheduled = 0;
  let attempts = 0;
  const pending = [workflowId];
  for (let visited = 0; pending.length > 0 && visited < 20; visited++) {
    const id = pending.shift()!;
    const history = await client.workflow.getHandle(id).fetchHistory();
    const typeByScheduledId = new Map<string, string>();
    for (const event of history.events ?? []) {
      switch (event.eventType) {
        case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
          const type = event.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
          typeByScheduledId.set(String(event.eventId), type);
          if (type === activityType) scheduled += 1;
          break;
        }
        case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
          const attributes = event.activityTaskStartedEventAttributes;
          if (typeByScheduledId.get(String(attributes?.scheduledEventId)) === activityType) attempts += attributes?.attempt ?? 1;
          break;
        }
        case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: {
          const child = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
          if (child) pending.push(child);
          break;
        }
      }
    }
  }
  return { scheduled, attempts };
}
