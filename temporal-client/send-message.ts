import { isGrpcServiceError, QueryNotRegisteredError, WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import {
  APPROVAL_UPDATE,
  CONTEXT_UPDATE,
  CONVERSATION_WORKFLOW,
  FEEDBACK_UPDATE,
  LATEST_VIEW_CONTEXT_QUERY,
  MESSAGE_UPDATE,
  VIEW_CONTEXT_UPDATE,
  VIEW_CONTEXT_WORKFLOW,
  STOP_UPDATE,
  type ApprovalDecision,
  type ApprovalRecorded,
  type ConversationContext,
  type ConversationStart,
  type FeedbackRequest,
  type IncomingMessage,
  type MessageAccepted,
  type StopRequest,
  type StopResult,
  type TurnFeedback,
  type ViewContextChange,
} from '../core/conversation.ts';
import { startSearchAttributes } from '../core/search-attributes.ts';
import type { ConversationInput, conversation } from '../workflows/conversation.ts';
import type { viewContext } from '../workflows/view-context.ts';

export interface SendMessageOptions {
  /** Workflow id of the conversation: `slack:{team}:{channel}:{thread_ts}`, `email:{root id}`, … */
  conversationId: string;
  /** How to start the conversation if it is not running (its first message, or one after an idle close). */
  start: Omit<ConversationStart, 'conversationId'> & { conversationId?: string };
  message: IncomingMessage;
  taskQueue: string;
}

/**
 * Delivers one message: update-with-start, so the first message starts the conversation and
 * later ones join it, with the source event id as the update id. A message delivered again
 * (a Slack retry, an SQS redelivery) lands once: Temporal answers a repeated update id with
 * the first outcome, and the conversation's own memory of ids catches what Temporal's cannot
 * see (across continue-as-new and idle closes), answering `{ duplicate: true }`.
 */
export function sendMessage(client: Client, options: SendMessageOptions): Promise<MessageAccepted> {
  return client.workflow.executeUpdateWithStart<typeof conversation, MessageAccepted, [IncomingMessage]>(MESSAGE_UPDATE, {
    args: [options.message],
    updateId: options.message.id,
    startWorkflowOperation: startConversation(options),
  });
}

/** Starts the conversation unless it runs (an update-with-start's start), whichever update starts it. */
function startConversation(options: Omit<SendMessageOptions, 'message'>): WithStartWorkflowOperation<typeof conversation> {
  const input: ConversationInput = { ...options.start, conversationId: options.conversationId };
  return new WithStartWorkflowOperation<typeof conversation>(CONVERSATION_WORKFLOW, {
    workflowId: options.conversationId,
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    // Searchable and readable in the Web UI's list: names, never the message.
    typedSearchAttributes: startSearchAttributes({ agent: input.agent, channelKind: input.channel.kind, trigger: 'message' }),
    staticSummary: `${input.agent} · ${input.channel.kind} conversation`,
  });
}

/**
 * Delivers a person's decision on an approval request. The conversation's validator refuses
 * unknown or decided requests and people who may not approve: the promise rejects
 * (`WorkflowUpdateFailedError`) and history keeps no trace of the attempt.
 */
export function sendApproval(
  client: Client,
  conversationId: string,
  decision: ApprovalDecision,
  updateId?: string,
): Promise<ApprovalRecorded> {
  return client.workflow
    .getHandle(conversationId)
    .executeUpdate<ApprovalRecorded, [ApprovalDecision]>(APPROVAL_UPDATE, { args: [decision], ...(updateId ? { updateId } : {}) });
}

/** Tells the conversation which channel the person has open; it starts the conversation if need be, like a message. */
export async function sendContext(
  client: Client,
  options: Omit<SendMessageOptions, 'message'> & { context: ConversationContext; updateId: string },
): Promise<void> {
  await client.workflow.executeUpdateWithStart<typeof conversation, void, [ConversationContext]>(CONTEXT_UPDATE, {
    args: [options.context],
    updateId: options.updateId,
    startWorkflowOperation: startConversation(options),
  });
}

/** Records a person's thumbs up or down on a turn; refused when the conversation has no such turn. */
export function sendFeedback(client: Client, conversationId: string, feedback: FeedbackRequest, updateId?: string): Promise<TurnFeedback> {
  return client.workflow
    .getHandle(conversationId)
    .executeUpdate<TurnFeedback, [FeedbackRequest]>(FEEDBACK_UPDATE, { args: [feedback], ...(updateId ? { updateId } : {}) });
}

/** Asks the conversation to cancel the turn in progress; `{ stopped: false }` when none runs. */
export function sendStop(client: Client, conversationId: string, request: StopRequest = {}, updateId?: string): Promise<StopResult> {
  return client.workflow
    .getHandle(conversationId)
    .executeUpdate<StopResult, [StopRequest]>(STOP_UPDATE, { args: [request], ...(updateId ? { updateId } : {}) });
}

/** Keeps what a person has open in Slack (`app_context_changed`) until their next message; starts the holder if need be. */
export async function sendViewContext(
  client: Client,
  options: { workflowId: string; change: ViewContextChange; taskQueue: string },
): Promise<void> {
  await client.workflow.executeUpdateWithStart<typeof viewContext, void, [ViewContextChange]>(VIEW_CONTEXT_UPDATE, {
    args: [options.change],
    updateId: options.change.id,
    startWorkflowOperation: new WithStartWorkflowOperation<typeof viewContext>(VIEW_CONTEXT_WORKFLOW, {
      workflowId: options.workflowId,
      taskQueue: options.taskQueue,
      args: [],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: 'Slack view context',
    }),
  });
}

/** The person's latest view context, or undefined when none is kept (never set, or a day old). */
export async function latestViewContext(client: Client, workflowId: string): Promise<ViewContextChange | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).query<ViewContextChange | undefined>(LATEST_VIEW_CONTEXT_QUERY);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || (isGrpcServiceError(error) && error.code === GRPC_NOT_FOUND)) return undefined;
    // A holder that completed answers queries too; one that cannot answer is no context, not a lost message.
    if (error instanceof QueryNotRegisteredError) return undefined;
    throw error;
  }
}

const GRPC_NOT_FOUND = 5;
