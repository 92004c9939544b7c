import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  defineUpdate,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { agentIn, allowedApprovers, policyFor } from '../core/approval-policy.ts';
import { addNewest } from '../core/bounded.ts';
import { DELIVER_APPROVAL_ACTIVITY, RECORD_APPROVAL_ACTIVITY, type ApprovalRecordActivities } from '../core/contracts/tools.ts';
import type { AgentSpec } from '../core/spec.ts';
import {
  APPROVAL_UPDATE,
  mayApprove,
  PENDING_APPROVALS_QUERY,
  type ApprovalDecision,
  type ApprovalRecorded,
  type PendingApproval,
} from '../core/conversation.ts';
import { approvalClosedSignal, approvalRequestedSignal } from './approvals.ts';

export const decideApprovalUpdate = defineUpdate<ApprovalRecorded, [ApprovalDecision]>(APPROVAL_UPDATE);
export const pendingApprovalsQuery = defineQuery<PendingApproval[]>(PENDING_APPROVALS_QUERY);

/** Decided or expired approval request ids remembered, so a late decision is refused by name. */
const MAX_DECIDED_REQUESTS = 200;

/** The turn that may ask, and who may decide for it. */
export interface AskingTurn {
  turn: number;
  /** Who may decide when no policy names anyone: the configured approvers, else the requesters. */
  approvers: string[];
  /** The configured approvers (the conversation's or the trigger's). @default approvers */
  configured?: string[];
  /** Every identity of every person whose message the turn answers. @default none (nobody asked: an ambient run) */
  requesters?: string[];
  /** The turn's agent as the worker resolved it: its approval policies decide. @default no policy */
  spec?: AgentSpec;
}

const { [RECORD_APPROVAL_ACTIVITY]: recordApproval, [DELIVER_APPROVAL_ACTIVITY]: deliverApproval } =
  proxyActivities<ApprovalRecordActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
  });

export interface ApprovalBook {
  /** Whether a request of `turn` waits for a person. */
  waitingIn(turn: number): boolean;
  /** Closes the requests of a turn that ended (answered, stopped or failed); returns those nobody had decided. */
  closeTurn(turn: number): PendingApproval[];
  /** Ids to carry across continue-as-new. */
  decidedIds(): string[];
}

/**
 * Approvals live on the conversation: a run signals each request here before anyone sees it;
 * a person's decision is the `decideApproval` update, whose validator checks the request id
 * and the approver (a refusal leaves nothing in history); the accepted decision, stamped with
 * workflow time, goes on to the waiting run as that run's validated `approvalVerdict` update
 * (through the `approvals:deliver` activity: a workflow cannot send an update itself). Timeouts are the run's: it closes
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
      // The tool checks this record in the worker before it runs: the run's input alone cannot skip an approval.
      if (decision.decision === 'approve') {
        try {
          await recordApproval({
            conversationId: workflowInfo().workflowId,
            requestId: request.requestId,
            runWorkflowId: request.runWorkflowId,
            target: request.target ?? `tool:${request.tool}`,
            args: request.args,
            approver: recorded.approver,
            decidedAt: recorded.decidedAt,
          });
        } catch (error) {
          if (isCancellation(error) || !(error instanceof ActivityFailure)) throw error;
          throw ApplicationFailure.nonRetryable(
            `The approval could not be recorded (${error.cause?.message ?? error.message}); the call will not run.`,
            'ApprovalNotRecorded',
          );
        }
      }
      try {
        await deliverApproval({ runWorkflowId: request.runWorkflowId, verdict: recorded });
      } catch (error) {
        if (isCancellation(error) || !(error instanceof ActivityFailure)) throw error;
        throw ApplicationFailure.nonRetryable(
          error.cause?.message ?? `The run that asked (${request.runWorkflowId}) no longer waits.`,
          'ApprovalNoLongerPending',
        );
      }
      return recorded;
    },
    {
      // A refused decision never reaches history: no event, no trace of who tried.
      validator: (decision) => {
        if (decision?.decision !== 'approve' && decision?.decision !== 'deny') throw new Error('A decision is "approve" or "deny".');
        const request = pending.get(decision.requestId);
        if (!request) {
          if (closed.has(decision.requestId))
            throw new Error(`Approval request ${decision.requestId} has already been decided or has expired.`);
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
      // The conversation's own policy decides, whatever the run put in its request.
      approvers: approversOf(asking, requested.agent, requested.tool),
      ...(requested.target ? { target: requested.target } : {}),
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
      const open = [...pending.values()].filter((request) => request.turn === turn);
      for (const request of open) close(request.requestId);
      return open;
    },
    decidedIds: () => [...closed],
  };
}

/** Who may decide on a call of `tool` by the agent `agent` in the asking turn (see `allowedApprovers`). */
export function approversOf(asking: AskingTurn, agent: string | undefined, tool: string): string[] {
  const policy = policyFor(asking.spec ? agentIn(asking.spec, agent) : undefined, tool);
  return allowedApprovers(policy, { configured: asking.configured ?? asking.approvers, requesters: asking.requesters ?? [] });
}
