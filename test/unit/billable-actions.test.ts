import { join } from 'node:path';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { billableActions, priceUsd } from '../../bench/billable-actions.ts';
import { loadRecordedHistory, REPLAY_HISTORIES_DIR } from '../../worker/workflow-bundle.ts';

const { EventType } = proto.temporal.api.enums.v1;
const event = (eventType: number, attributes: Record<string, unknown> = {}) =>
  proto.temporal.api.history.v1.HistoryEvent.fromObject({ eventType, ...attributes });
const localActivityMarker = (taskCompletedId: number) =>
  event(EventType.EVENT_TYPE_MARKER_RECORDED, {
    markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: taskCompletedId },
  });

describe("Temporal Cloud's billable actions, counted from history", () => {
  it('counts each kind by the published rules', () => {
    const count = billableActions([
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, { workflowExecutionStartedEventAttributes: {} }),
      event(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      event(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { attempt: 3 } }),
      // Two local activities in one workflow task are one action; a third in the next task another, plus its retry.
      localActivityMarker(5),
      localActivityMarker(5),
      event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, {
        workflowTaskCompletedEventAttributes: { meteringMetadata: { nonfirstLocalActivityExecutionAttempts: 1 } },
      }),
      localActivityMarker(9),
      event(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
      event(EventType.EVENT_TYPE_TIMER_STARTED),
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
      event(EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED),
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
      event(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, {
        upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { TemporalChangeVersion: {} } } },
      }),
      event(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, {
        upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { AgentName: {} } } },
      }),
    ]);
    expect(count.byKind).toEqual({
      workflow: 1,
      activity: 1,
      activity_retry: 2,
      local_activities: 2,
      local_activity_retry: 1,
      child_workflow: 2,
      timer: 1,
      signal: 1,
      update: 1,
      search_attributes: 1,
    });
    expect(count.total).toBe(13);
  });

  it('a child counts on its parent; a scheduled start counts the schedule too', () => {
    expect(
      billableActions([
        event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, {
          workflowExecutionStartedEventAttributes: { parentWorkflowExecution: { workflowId: 'parent' } },
        }),
      ]).total,
    ).toBe(0);
    const scheduled = {
      workflowExecutionStartedEventAttributes: { searchAttributes: { indexedFields: { TemporalScheduledById: { data: 'eA==' } } } },
    };
    expect(billableActions([event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, scheduled)]).byKind).toEqual({
      workflow: 1,
      schedule: 2,
    });
  });

  it('a recorded agent run: its start, its transcript activity, one task of local activities and its Outcome', () => {
    // Its read-only tool ran inside a model call: no timer either, the local calls' schedule-to-close keeps the time limit.
    const { history } = loadRecordedHistory(join(REPLAY_HISTORIES_DIR, 'agent-run-plain.json'));
    expect(billableActions(history.events ?? [])).toEqual({
      total: 4,
      byKind: { workflow: 1, activity: 1, local_activities: 1, search_attributes: 1 },
    });
    // The same run before read-only tools ran inside the model call: the time limit's timer armed around the tool.
    const before = loadRecordedHistory(join(REPLAY_HISTORIES_DIR, 'agent-run-read-only-tool-as-local-activity.json')).history;
    expect(billableActions(before.events ?? []).byKind).toEqual({
      workflow: 1,
      activity: 1,
      timer: 1,
      local_activities: 1,
      search_attributes: 1,
    });
    expect(priceUsd(1_000_000)).toBe(50);
  });
});
