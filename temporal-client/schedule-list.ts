import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';

/** One schedule of the namespace's list: its id, and its memo when this client can read it. */
export interface ListedSchedule {
  scheduleId: string;
  /** Undefined when the schedule has no memo, or one written with payload keys this client lacks. */
  memo: Record<string, unknown> | undefined;
}

const PAGE_SIZE = 1000;

/**
 * The namespace's schedules, a page a request. Unlike `client.schedule.list`, which throws on
 * the first memo it cannot decode, a memo another deployment encrypted with its own payload
 * keys leaves that schedule's memo undefined: it is not ours, and the list goes on.
 */
export async function* listScheduleMemos(client: Client, onPage: () => void = () => undefined): AsyncGenerator<ListedSchedule> {
  const { namespace, loadedDataConverter } = client.schedule.options;
  let nextPageToken: Uint8Array | undefined;
  do {
    onPage();
    const page = await client.workflowService.listSchedules({
      namespace,
      maximumPageSize: PAGE_SIZE,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const entry of page.schedules ?? []) {
      if (!entry.scheduleId) continue;
      yield { scheduleId: entry.scheduleId, memo: await readableMemo(entry.memo?.fields ?? undefined, loadedDataConverter) };
    }
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
}

async function readableMemo(
  fields: Record<string, Payload> | undefined,
  converter: Client['schedule']['options']['loadedDataConverter'],
): Promise<Record<string, unknown> | undefined> {
  if (!fields || Object.keys(fields).length === 0) return undefined;
  const memo: Record<string, unknown> = {};
  try {
    for (const [name, payload] of Object.entries(fields)) {
      let decoded: Payload[] = [payload];
      for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
      memo[name] = converter.payloadConverter.fromPayload(decoded[0] as Payload);
    }
  } catch {
    return undefined;
  }
  return memo;
}
