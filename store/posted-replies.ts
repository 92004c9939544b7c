import * as z from 'zod';
import { recordFilesFor, type RecordFilesSource } from './record-files.ts';
import { createRecordStore, sha256Hex } from './record-store.ts';

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

/** A claim (`claimedAt`) until the post is recorded over it (`ts`, `postedAt`). */
const postedReplySchema = z.looseObject({ claimedAt: z.string().optional(), ts: z.string().optional(), postedAt: z.string().optional() });

/** The posts recorded in `records` (record files, or the transcript store settings they sit next to): `slack-replies/<sha256>.json`. */
export function createPostedReplies(records: RecordFilesSource): PostedReplies {
  const posts = createRecordStore(recordFilesFor(records), {
    path: (id: string) => `slack-replies/${sha256Hex(id)}.json`,
    schema: postedReplySchema,
  });
  return {
    lookup: (ids) =>
      Promise.all(
        ids.map(async (id) => {
          const post = await posts.get(id);
          return post === undefined ? undefined : (post.ts ?? 'pending');
        }),
      ),
    claim: (id) => posts.put(id, { claimedAt: new Date().toISOString() }),
    record: (id, ts) => posts.put(id, { ts, postedAt: new Date().toISOString() }),
  };
}
