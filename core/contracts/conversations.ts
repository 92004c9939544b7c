/**
 * What a conversation keeps between its runs, as activities: `conversation:load` when a run
 * opens fresh, `conversation:save` after every turn. Wire contracts: never renamed in place.
 */

import type { Duration, MessageRef } from '../spec.ts';

export const LOAD_CONVERSATION_ACTIVITY = 'conversation:load';
export const SAVE_CONVERSATION_ACTIVITY = 'conversation:save';

/** What a conversation keeps between its runs (after an idle close), by conversation id. */
export interface SavedConversation {
  conversationId: string;
  transcriptHead?: MessageRef;
  /** Turns started so far: the next is `turns + 1`. */
  turns: number;
  /** Recent message ids and the turn each landed in, oldest first: dedupe after a restart. */
  recentMessageIds: [id: string, turn: number][];
  updatedAt: string;
}

export interface LoadConversationInput {
  conversationId: string;
}

export interface LoadConversationResult {
  saved?: SavedConversation;
  /** The worker's defaults, recorded in history with the rest. */
  defaults: { idleTimeout: Duration; approvalTimeout: Duration };
}

export interface SaveConversationInput {
  conversationId: string;
  transcriptHead?: MessageRef;
  turns: number;
  /** Ids that landed since the last save; the store keeps the newest few hundred. */
  messageIds: [id: string, turn: number][];
}

export interface ConversationStoreActivities {
  [LOAD_CONVERSATION_ACTIVITY]: (input: LoadConversationInput) => Promise<LoadConversationResult>;
  [SAVE_CONVERSATION_ACTIVITY]: (input: SaveConversationInput) => Promise<void>;
}
