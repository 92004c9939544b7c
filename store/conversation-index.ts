import * as z from 'zod';
import type { SavedConversation, SaveConversationInput } from '../core/contracts/conversations.ts';
import { setNewest } from '../core/bounded.ts';
import { recordFilesFor, type RecordFilesSource } from './record-files.ts';
import { createRecordStore, hashedPath } from './record-store.ts';

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

const savedConversationSchema: z.ZodType<SavedConversation> = z.looseObject({
  conversationId: z.string(),
  transcriptHead: z.string().optional(),
  turns: z.number(),
  recentMessageIds: z.array(z.tuple([z.string(), z.number()])),
  updatedAt: z.string(),
});

/** The index in `records` (record files, or the transcript store settings they sit next to). */
export function createConversationIndex(records: RecordFilesSource, now: () => Date = () => new Date()): ConversationIndex {
  const saved = createRecordStore(recordFilesFor(records), {
    path: (conversationId: string) => hashedPath('conversations', conversationId),
    schema: savedConversationSchema,
  });
  return {
    load: (conversationId) => saved.get(conversationId),
    async save(input) {
      const previous = await saved.get(input.conversationId);
      if (previous && previous.turns > input.turns) return;
      const ids = new Map<string, number>();
      for (const [id, turn] of [...(previous?.recentMessageIds ?? []), ...input.messageIds])
        setNewest(ids, id, turn, MAX_SAVED_MESSAGE_IDS);
      await saved.put(input.conversationId, {
        conversationId: input.conversationId,
        ...(input.transcriptHead ? { transcriptHead: input.transcriptHead } : {}),
        turns: input.turns,
        recentMessageIds: [...ids],
        updatedAt: now().toISOString(),
      });
    },
  };
}
