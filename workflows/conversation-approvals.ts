import { ApplicationFailure, defineQuery, defineUpdate, getExternalWorkflowHandle, isCancellation, setHandler } from '@temporalio/workflow';
import { addNewest } from '../core/bounded.ts';
import {
  APPROVAL_UPDATE,
  mayApprove,
  PENDING_APPROVALS_QUERY,
  type ApprovalDecision,
  type ApprovalRecorded,
  type PendingApproval,
} from '../core/conversation.ts';
import { approvalClosedSignal, approvalDecidedSignal, approvalRequestedSignal } from './approvals.ts';

export const decideApprovalUpdate = defineUpdate<ApprovalRecorded, [ApprovalDecision]>(APPROVAL_UPDATE);
export const pendingApprovalsQuery = defineQuery<PendingApproval[]>(PENDING_APPROVALS_QUERY);

/** Decided or expired approval request ids remembered, so a late decision is refused by name. */
const MAX_DECIDED_REQUESTS = 200;

/** The turn that may ask, and who may decide for it. */
export interface AskingTurn {
  turn: number;
  approvers: string[];
}

export interface ApprovalBook {
  /** Whether a request of `turn` waits for a person. */
  waitingIn(turn: number): boolean;
  /** Closes the requests of a turn that ended (answered, stopped or failed). */
  closeTurn(turn: number): void;
  /** Ids to carry across continue-as-new. */
  decidedIds(): string[];
}

/**
 * Approvals live on the conversation: a run signals each request here before anyone sees it;
 * a person's decision is the `decideApproval` update, whose validator checks the request id
 * and the approver (a refusal leaves nothing in history); the accepted decision, stamped with
 * workflow time, goes on to the waiting run as a signal. Timeouts are the run's: it closes
 * the request here when its timer fires.
 */
export function openApprovalBook(currentTurn: () => AskingTurn | undefined, decided: string[]): ApprovalBook {
  const pending = new Map<string, PendingApproval>();
  const closed = new Set<string>();
  for (const requestId of decided) addNewest(closed, requestId, MAX_DECIDED_REQUESTS);
  const close = (requestId: string) => {
    if (pending.delete(requestId)) addNewest(closed, requestId, MAX_DECIDED_REQUESTS);
  };

  setHandler(
    decideApprovalUpdate,
    async (decision) => {
      const request = pending.get(decision.requestId)!;
      close(decision.requestId);
      const recorded: ApprovalRecorded = {
        requestId: decision.requestId,
        decision: decision.decision,
        approver: decision.approver,
        decidedAt: new Date().toISOString(),
      };
      try {
        await getExternalWorkflowHandle(request.runWorkflowId).signal(approvalDecidedSignal, recorded);
      } catch (error) {
        if (isCancellation(error)) throw error;
        throw ApplicationFailure.nonRetryable(`The run that asked (${request.runWorkflowId}) has already finished.`, 'ApprovalNoLongerPending');
      }
      return recorded;
    },
    {
      // A refused decision never reaches history: no event, no trace of who tried.
      validator: (decision) => {
        if (decision?.decision !== 'approve' && decision?.decision !== 'deny') throw new Error('A decision is "approve" or "deny".');
        const request = pending.get(decision.requestId);
        if (!request) {
          if (closed.has(decision.requestId)) throw new Error(`Approval request ${decision.requestId} has already been decided or has expired.`);
          throw new Error(`There is no approval request ${decision.requestId} in this conversation.`);
        }
        if (!mayApprove(decision.approver ?? '', request.approvers, [])) {
          throw new Error(`${decision.approver} may not decide on approval request ${decision.requestId}.`);
        }
      },
    },
  );

  setHandler(approvalRequestedSignal, (requested) => {
    const asking = currentTurn();
    if (!asking) return;
    pending.set(requested.requestId, {
      requestId: requested.requestId,
      tool: requested.tool,
      args: requested.args,
      // The conversation's own list decides, whatever the run put in its request.
      approvers: asking.approvers,
      expiresAt: requested.expiresAt,
      turn: asking.turn,
      runWorkflowId: requested.runWorkflowId,
    });
  });
  setHandler(approvalClosedSignal, ({ requestId }) => close(requestId));
  setHandler(pendingApprovalsQuery, () => [...pending.values()]);

  return {
    waitingIn: (turn) => [...pending.values()].some((request) => request.turn === turn),
    closeTurn(turn) {
      for (const [requestId, request] of pending) if (request.turn === turn) close(requestId);
    },
    decidedIds: () => [...closed],
  };
}
