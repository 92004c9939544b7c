/**
 * Local activities leave no activity events in history: Core records each finished call as a
 * `core_local_activity` marker whose `data` detail names the activity. Readers of history
 * (tests, benchmarks) count them with the activities.
 */
export const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** The parts of a history event this reads (a proto `IHistoryEvent` fits). */
export interface MarkerEvent {
  markerRecordedEventAttributes?: {
    markerName?: string | null;
    details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null;
    failure?: unknown;
  } | null;
}

export interface LocalActivityRecord {
  activityType: string;
  /** False when the call failed (or was cancelled or timed out). */
  completed: boolean;
  /** The attempt that finished. */
  attempt: number;
  /** When the worker scheduled the call, epoch milliseconds by its clock. (The marker's `complete_time` is the workflow's time, not a clock reading, so it is not given.) */
  scheduledAt?: number;
}

interface MarkerData {
  activity_type?: string;
  attempt?: number;
  original_schedule_time?: { seconds: number; nanos: number } | null;
}

const millis = (time: { seconds: number; nanos: number } | null | undefined) => (time ? time.seconds * 1000 + time.nanos / 1e6 : undefined);

/** The local activity a marker event records; undefined for any other event. */
export function localActivityOf(event: MarkerEvent): LocalActivityRecord | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
  const bytes = marker.details?.data?.payloads?.[0]?.data;
  const data = bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as MarkerData) : {};
  const scheduledAt = millis(data.original_schedule_time);
  return {
    activityType: data.activity_type ?? '?',
    completed: !marker.failure,
    attempt: data.attempt ?? 1,
    ...(scheduledAt === undefined ? {} : { scheduledAt }),
  };
}
