import { WorkflowUpdateFailedError, isGrpcServiceError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import {
  latestViewContext,
  sendApproval,
  sendContext,
  sendFeedback,
  sendMessage,
  sendStop,
  sendViewContext,
} from '../../temporal-client/send-message.ts';
import {
  APPROVAL_UPDATE,
  CONTEXT_UPDATE,
  FEEDBACK_UPDATE,
  MESSAGE_UPDATE,
  PENDING_APPROVALS_QUERY,
  STOP_UPDATE,
  VIEW_CONTEXT_UPDATE,
  type ApprovalDecision,
  type PendingApproval,
} from '../../core/conversation.ts';
import { emailApprovalCode } from '../../events/email-approval.ts';
import { isUnknownSearchAttribute } from '../../temporal-client/search-attribute-check.ts';
import type { DispatchAction } from './route.ts';

/** gRPC status NOT_FOUND: the conversation has closed or never existed. */
const GRPC_NOT_FOUND = 5;
/** gRPC status INVALID_ARGUMENT: Temporal refuses the request itself (an id too long, a payload too large); no retry changes that. */
const GRPC_INVALID_ARGUMENT = 3;

export type DeliveryResult =
  { outcome: 'delivered'; update: string; duplicate?: boolean; turn?: number } | { outcome: 'refused'; update: string; reason: string };

export interface DeliverOptions {
  taskQueue: string;
  /** Checks email approval codes. */
  approvalSecret: string;
}

/**
 * Sends one action to its conversation. A message goes in by update-with-start (the
 * conversation starts if it is not running) with the source event id as update id, so a
 * redelivered event lands once. Refusals by the workflow (a validator saying no, a
 * conversation that no longer exists for an approval) come back as `refused`; anything else
 * throws, and the record is retried. A namespace without this project's search attributes
 * throws `NamespaceNotReady`: a setup step, so the valid event is kept (retried, then the DLQ).
 */
export async function deliver(client: Client, action: DispatchAction, options: DeliverOptions): Promise<DeliveryResult> {
  try {
    return await deliverAction(client, action, options);
  } catch (error) {
    if (isUnknownSearchAttribute(error)) throw new NamespaceNotReady(error as Error);
    throw error;
  }
}

async function deliverAction(client: Client, action: DispatchAction, options: DeliverOptions): Promise<DeliveryResult> {
  if (action.type === 'message' && action.emailApproval) {
    const decision = await emailApprovalDecision(client, action, options.approvalSecret);
    if (decision) return decide(client, action.conversationId, action.message.id, decision);
  }
  switch (action.type) {
    case 'message': {
      try {
        if (action.viewContextId) await handOverViewContext(client, action, options.taskQueue);
        const accepted = await sendMessage(client, {
          conversationId: action.conversationId,
          start: action.start,
          message: action.message,
          taskQueue: options.taskQueue,
        });
        return { outcome: 'delivered', update: MESSAGE_UPDATE, duplicate: accepted.duplicate, turn: accepted.turn };
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError || isInvalid(error)) return refused(MESSAGE_UPDATE, error as Error);
        throw error;
      }
    }
    case 'approval':
      return decide(client, action.conversationId, action.updateId, action.decision);
    case 'stop':
      return refusedWhenGone(STOP_UPDATE, () => sendStop(client, action.conversationId, action.request, action.updateId));
    case 'context':
      // Like a message, it may come first (the pane opened from a channel): it starts the conversation.
      try {
        await sendContext(client, {
          conversationId: action.conversationId,
          start: action.start,
          context: action.context,
          updateId: action.updateId,
          taskQueue: options.taskQueue,
        });
        return { outcome: 'delivered', update: CONTEXT_UPDATE };
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError || isInvalid(error)) return refused(CONTEXT_UPDATE, error as Error);
        throw error;
      }
    case 'feedback':
      return refusedWhenGone(FEEDBACK_UPDATE, () => sendFeedback(client, action.conversationId, action.feedback, action.updateId));
    case 'view-context':
      try {
        await sendViewContext(client, { workflowId: action.workflowId, change: action.change, taskQueue: options.taskQueue });
        return { outcome: 'delivered', update: VIEW_CONTEXT_UPDATE };
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError || isInvalid(error)) return refused(VIEW_CONTEXT_UPDATE, error as Error);
        throw error;
      }
  }
}

/**
 * What the sender has open in Slack reaches the conversation before their message, so the
 * turn it starts tells the model. The change's id is the update id: a redelivered message, or
 * the next message with no change since, hands over nothing new.
 */
async function handOverViewContext(client: Client, action: Extract<DispatchAction, { type: 'message' }>, taskQueue: string): Promise<void> {
  const latest = await latestViewContext(client, action.viewContextId as string);
  if (!latest) return;
  await sendContext(client, {
    conversationId: action.conversationId,
    start: action.start,
    context: latest.context,
    updateId: latest.id,
    taskQueue,
  });
}

function decide(client: Client, conversationId: string, updateId: string, decision: ApprovalDecision): Promise<DeliveryResult> {
  return refusedWhenGone(APPROVAL_UPDATE, () => sendApproval(client, conversationId, decision, updateId));
}

/** Approvals and stops go to a conversation that must already run: they never start one. */
async function refusedWhenGone(update: string, send: () => Promise<unknown>): Promise<DeliveryResult> {
  try {
    await send();
    return { outcome: 'delivered', update };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError || isGone(error) || isInvalid(error)) return refused(update, error as Error);
    throw error;
  }
}

/** The pending request whose code the reply quotes, if any: otherwise the reply is an ordinary message. */
async function emailApprovalDecision(
  client: Client,
  action: Extract<DispatchAction, { type: 'message' }>,
  secret: string,
): Promise<ApprovalDecision | undefined> {
  let pending: PendingApproval[];
  try {
    pending = await client.workflow.getHandle(action.conversationId).query<PendingApproval[]>(PENDING_APPROVALS_QUERY);
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
  const reply = action.emailApproval!;
  const request = pending.find((candidate) => emailApprovalCode(candidate.requestId, secret) === reply.code);
  if (!request) return undefined;
  return { requestId: request.requestId, decision: reply.decision, approver: action.message.user.email ?? action.message.user.id };
}

function isGone(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  return isGrpcServiceError(error) && error.code === GRPC_NOT_FOUND;
}

/**
 * Temporal refused the request itself: nothing in the event can change that, so it is refused,
 * not retried. Except a namespace that lacks a search attribute: that is the namespace's setup.
 */
function isInvalid(error: unknown): boolean {
  const cause = (error as { cause?: unknown }).cause;
  return (
    [error, cause].some((candidate) => isGrpcServiceError(candidate) && candidate.code === GRPC_INVALID_ARGUMENT) &&
    !isUnknownSearchAttribute(error)
  );
}

export class NamespaceNotReady extends Error {
  override readonly name = 'NamespaceNotReady';
  constructor(cause: Error) {
    super(
      `The namespace lacks a search attribute this project sets; register them (README, Searchable runs). ${cause.cause instanceof Error ? cause.cause.message : cause.message}`,
    );
  }
}

function refused(update: string, error: Error): DeliveryResult {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return { outcome: 'refused', update, reason: `${error.message}${cause}` };
}
