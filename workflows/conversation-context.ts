import { defineUpdate, setHandler } from '@temporalio/workflow';
import { CONTEXT_UPDATE, type ConversationContext } from '../core/conversation.ts';
import type { ConversationState } from './conversation-state.ts';

export const contextUpdate = defineUpdate<void, [ConversationContext]>(CONTEXT_UPDATE);

/** Keeps the latest context (the Slack channel the person has open) for the next turn, which tells the model once. */
export function acceptContext(state: ConversationState): void {
  setHandler(
    contextUpdate,
    (context) => {
      state.context = context;
    },
    {
      validator: (context) => {
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(context.channelId)) throw new Error('Context names no Slack channel.');
      },
    },
  );
}

/** The line a turn's prompt starts with when the person's context changed since the last turn. */
export function contextLine(context: ConversationContext): string {
  return `(Context: the person has the Slack channel <#${context.channelId}> open beside this conversation.)`;
}
