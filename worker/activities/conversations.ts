import {
  LOAD_CONVERSATION_ACTIVITY,
  SAVE_CONVERSATION_ACTIVITY,
  type ConversationStoreActivities,
} from '../../core/contracts/conversations.ts';
import { DEFAULT_APPROVAL_TIMEOUT, type Duration } from '../../core/spec.ts';
import type { ConversationIndex } from '../../store/conversation-index.ts';

export interface ConversationDefaults {
  /** @default '24 hours' */
  idleTimeout?: Duration;
  /** @default '1 hour' */
  approvalTimeout?: Duration;
}

const DEFAULT_IDLE_TIMEOUT: Duration = '24 hours';

/**
 * `conversation:load` runs once when a conversation's run opens fresh (not after
 * continue-as-new): it finds what an earlier, closed run left, and the worker's defaults.
 * `conversation:save` runs after every turn.
 */
export function createConversationActivities(index: ConversationIndex, defaults: ConversationDefaults = {}): ConversationStoreActivities {
  return {
    async [LOAD_CONVERSATION_ACTIVITY]({ conversationId }) {
      const saved = await index.load(conversationId);
      return {
        ...(saved ? { saved } : {}),
        defaults: {
          idleTimeout: defaults.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
          approvalTimeout: defaults.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT,
        },
      };
    },
    async [SAVE_CONVERSATION_ACTIVITY](input) {
      await index.save(input);
    },
  };
}
