import type { temporal } from '@temporalio/proto';

/** Sizes of every payload in a list of history events (inputs, results, memos, failures' details). */
export function payloadSizes(events: temporal.api.history.v1.IHistoryEvent[]): number[] {
  const sizes: number[] = [];
  const visit = (value: unknown) => {
    if (!value || typeof value !== 'object') return;
    if (value instanceof Uint8Array) return;
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && 'metadata' in record) {
      sizes.push(record.data.length);
      return;
    }
    for (const child of Object.values(record)) visit(child);
  };
  for (const event of events) visit(event);
  return sizes;
}
