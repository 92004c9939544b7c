import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SavedConversation, SaveConversationInput } from '../core/contracts/conversations.ts';
import { setNewest } from '../core/bounded.ts';
import type { TranscriptStoreSettings } from './create-store.ts';
import { createLocalRecordFiles, createMemoryRecordFiles, createS3RecordFiles, recordFilesFor, type RecordFiles } from './record-files.ts';

/**
 * Where a conversation finds its transcript after it closed for idleness: one small mutable
 * record per conversation id, next to the transcript store (`conversations/ab/cdef….json`,
 * named by the SHA-256 of the id). The transcript itself stays content-addressed and
 * immutable; this is the one pointer that moves. Only the conversation's own workflow
 * writes it, one turn at a time, so a plain overwrite is enough; a retried, older save
 * (fewer turns) is ignored.
 */
export interface ConversationIndex {
  load(conversationId: string): Promise<SavedConversation | undefined>;
  save(input: SaveConversationInput): Promise<void>;
}

/** Message ids kept per conversation for dedupe after a restart. */
export const MAX_SAVED_MESSAGE_IDS = 256;

function createIndex(files: RecordFiles, now: () => Date = () => new Date()): ConversationIndex {
  const keyOf = (conversationId: string) => {
    const digest = createHash('sha256').update(conversationId).digest('hex');
    return `conversations/${digest.slice(0, 2)}/${digest.slice(2)}.json`;
  };
  const load = async (conversationId: string) => {
    const text = await files.read(keyOf(conversationId));
    return text === undefined ? undefined : (JSON.parse(text) as SavedConversation);
  };
  return {
    load,
    async save(input) {
      const previous = await load(input.conversationId);
      if (previous && previous.turns > input.turns) return;
      const ids = new Map<string, number>();
      for (const [id, turn] of [...(previous?.recentMessageIds ?? []), ...input.messageIds]) setNewest(ids, id, turn, MAX_SAVED_MESSAGE_IDS);
      const record: SavedConversation = {
        conversationId: input.conversationId,
        ...(input.transcriptHead ? { transcriptHead: input.transcriptHead } : {}),
        turns: input.turns,
        recentMessageIds: [...ids],
        updatedAt: now().toISOString(),
      };
      await files.write(keyOf(input.conversationId), JSON.stringify(record));
    },
  };
}

/** Records in a folder; written to a temporary file and renamed, so a reader sees a whole record. */
export function createLocalConversationIndex(options: { directory: string }): ConversationIndex {
  return createIndex(createLocalRecordFiles(options));
}

/** Records in an S3 bucket (read-after-write consistent), under the transcript store's prefix. */
export function createS3ConversationIndex(options: { client: S3Client; bucket: string; prefix?: string }): ConversationIndex {
  return createIndex(createS3RecordFiles(options));
}

/** Records in memory: for one process that never restarts (tests of a single worker). */
export function createMemoryConversationIndex(): ConversationIndex {
  return createIndex(createMemoryRecordFiles());
}

/** The index that sits next to the transcript store the same settings describe (TRANSCRIPT_STORE, TRANSCRIPT_DIR, TRANSCRIPT_BUCKET, TRANSCRIPT_PREFIX). */
export function createConversationIndex(settings: TranscriptStoreSettings, deps: { s3Client?: S3Client } = {}): ConversationIndex {
  return createIndex(recordFilesFor(settings, deps));
}
