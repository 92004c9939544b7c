import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';
import { localActivityOf } from '../core/local-activity-marker.ts';

// A CommonJS module: Node's ESM loader sees only its default export.
const { temporal: api } = proto;

const History = api.api.history.v1.History;
const Payload = api.api.common.v1.Payload;
const EventType = api.api.enums.v1.EventType;

export interface ChainMeasure {
  /** Encoded size of every run's history, summed over the continue-as-new chain. */
  totalBytes: number;
  events: number;
  /** Runs in the chain (1 when the workflow never continued as new). */
  runs: number;
  /** The largest encoded payload in any event of any run. */
  maxPayloadBytes: number;
  /** Activity completions by activity type, over the chain. */
  completed: Record<string, number>;
  /** How the last run ended, when not by completing: termination reason, failure or task failure. */
  failure?: string;
}

/** Fetches each run of a workflow's chain, following `newExecutionRunId` from the first run on. */
export async function measureChain(client: Client, workflowId: string, firstRunId: string): Promise<ChainMeasure> {
  const measure: ChainMeasure = { totalBytes: 0, events: 0, runs: 0, maxPayloadBytes: 0, completed: {} };
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
    measure.runs += 1;
    measure.totalBytes += History.encode(history).finish().length;
    measure.events += events.length;
    for (const size of payloadSizes(events)) measure.maxPayloadBytes = Math.max(measure.maxPayloadBytes, size);
    countCompletions(events, measure.completed);
    const last = events.at(-1);
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    if (!runId) {
      const failure = describeFailure(events);
      if (failure) measure.failure = failure;
    }
  }
  return measure;
}

/** Encoded sizes of every payload in the events: inputs, results, failures' details, memos. */
function payloadSizes(events: temporal.api.history.v1.IHistoryEvent[]): number[] {
  const sizes: number[] = [];
  const visit = (value: unknown) => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && 'metadata' in record) {
      sizes.push(Payload.encode(record as temporal.api.common.v1.IPayload).finish().length);
      return;
    }
    for (const child of Object.values(record)) visit(child);
  };
  for (const event of events) visit(event);
  return sizes;
}

function countCompletions(events: temporal.api.history.v1.IHistoryEvent[], completed: Record<string, number>): void {
  const typeByScheduledId = new Map<string, string>();
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeByScheduledId.set(String(event.eventId), scheduled.activityType?.name ?? '?');
    const local = localActivityOf(event);
    if (local?.completed) completed[local.activityType] = (completed[local.activityType] ?? 0) + 1;
    const done = event.activityTaskCompletedEventAttributes;
    if (done) {
      const type = typeByScheduledId.get(String(done.scheduledEventId)) ?? '?';
      completed[type] = (completed[type] ?? 0) + 1;
    }
  }
}

function describeFailure(events: temporal.api.history.v1.IHistoryEvent[]): string | undefined {
  const last = events.at(-1);
  if (!last) return 'empty history';
  if (last.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) return undefined;
  const reasons: string[] = [];
  const terminated = last.workflowExecutionTerminatedEventAttributes;
  if (terminated) reasons.push(`terminated: ${terminated.reason ?? '(no reason)'}`);
  const failed = last.workflowExecutionFailedEventAttributes;
  if (failed) reasons.push(`failed: ${failed.failure?.message ?? '(no message)'}`);
  const taskFailed = [...events].reverse().find((event) => event.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
  if (taskFailed) {
    const cause = api.api.enums.v1.WorkflowTaskFailedCause[taskFailed.cause ?? 0] ?? String(taskFailed.cause);
    reasons.push(`workflow task failed (${cause}): ${taskFailed.failure?.message ?? ''}`);
  }
  if (reasons.length === 0) reasons.push(`still open, last event ${EventType[last.eventType ?? 0] ?? String(last.eventType)}`);
  return reasons.join('; ');
}
