import { createHash } from 'node:crypto';
import type { RecordFiles } from './record-files.ts';

/**
 * What this app posted in Slack, by mark (`markId`), kept where a retried activity on any
 * worker finds it: the record files next to the transcript store. Apps outside the Slack
 * Marketplace may call `conversations.replies` and `conversations.history` once a minute
 * (15 messages a page), so reading a thread back to find earlier posts is the rare path:
 * only a mark claimed but never recorded (a worker that died between Slack's answer and the
 * record) sends the caller back to the thread.
 */
export interface PostedReplies {
  /** Per id: the ts posted, `pending` when an attempt claimed it and its outcome is unknown, undefined when never claimed. */
  lookup(ids: string[]): Promise<(string | 'pending' | undefined)[]>;
  /** Before posting: an attempt that dies after Slack took the message leaves this claim behind. */
  claim(id: string): Promise<void>;
  /** After posting. */
  record(id: string, ts: string): Promise<void>;
}

function recordKey(id: string): string {
  return `slack-replies/${createHash('sha256').update(id).digest('hex')}.json`;
}

export function createPostedReplies(records: RecordFiles): PostedReplies {
  return {
    async lookup(ids) {
      return Promise.all(
        ids.map(async (id) => {
          const text = await records.read(recordKey(id));
          if (text === undefined) return undefined;
          const parsed = JSON.parse(text) as { ts?: unknown };
          return typeof parsed.ts === 'string' ? parsed.ts : 'pending';
        }),
      );
    },
    claim: (id) => records.write(recordKey(id), JSON.stringify({ claimedAt: new Date().toISOString() })),
    record: (id, ts) => records.write(recordKey(id), JSON.stringify({ ts, postedAt: new Date().toISOString() })),
  };
}
