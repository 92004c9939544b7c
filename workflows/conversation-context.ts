import { defineUpdate, setHandler } from '@temporalio/workflow';
import { CONTEXT_UPDATE, MAX_VIEW_ENTITIES, type ConversationContext, type ViewEntity } from '../core/conversation.ts';
import type { ConversationState } from './conversation-state.ts';

export const contextUpdate = defineUpdate<void, [ConversationContext]>(CONTEXT_UPDATE);

/** Keeps the latest context (what the person has open in Slack) for the next turn, which tells the model once. */
export function acceptContext(state: ConversationState): void {
  setHandler(
    contextUpdate,
    (context) => {
      state.context = context;
    },
    { validator: validContext },
  );
}

const SLACK_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Throws, saying why, when a context is not one Slack could have sent. */
export function validContext(context: ConversationContext | undefined): void {
  const channelOk = context?.channelId === undefined || SLACK_ID.test(context.channelId);
  const entities = context?.entities;
  const entitiesOk =
    entities === undefined || (Array.isArray(entities) && entities.length <= MAX_VIEW_ENTITIES && entities.every(validEntity));
  if (!context || !channelOk || !entitiesOk || (context.channelId === undefined && entities === undefined)) {
    throw new Error('Context names no Slack channel or entities.');
  }
}

function validEntity(entity: ViewEntity): boolean {
  switch (entity?.type) {
    case 'channel':
      return SLACK_ID.test(entity.channelId);
    case 'canvas':
      return SLACK_ID.test(entity.canvasId);
    case 'list':
      return SLACK_ID.test(entity.listId);
    case 'message':
      return SLACK_ID.test(entity.channelId) && /^\d{1,12}\.\d{1,9}$/.test(entity.messageTs);
    default:
      return false;
  }
}

/** The line a turn's prompt starts with when the person's context changed since the last turn. */
export function contextLine(context: ConversationContext): string {
  if (context.entities !== undefined) {
    if (context.entities.length === 0) return '(Context: the person has nothing in particular open in Slack beside this conversation.)';
    return `(Context: the person has open in Slack, most relevant first: ${context.entities.map(describeEntity).join('; ')}.)`;
  }
  return `(Context: the person has the Slack channel <#${context.channelId}> open beside this conversation.)`;
}

function describeEntity(entity: ViewEntity): string {
  switch (entity.type) {
    case 'channel':
      return `the channel <#${entity.channelId}>`;
    case 'canvas':
      return `the canvas ${entity.canvasId}`;
    case 'list':
      return `the list ${entity.listId}`;
    case 'message':
      return `the message ${entity.messageTs} in <#${entity.channelId}>`;
  }
}
