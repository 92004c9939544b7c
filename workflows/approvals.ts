import {
  ApplicationFailure,
  condition,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  metricMeter,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  APPROVAL_CLOSED_SIGNAL,
  APPROVAL_REQUESTED_SIGNAL,
  APPROVAL_VERDICT_UPDATE,
  type ApprovalClosed,
  type ApprovalRequested,
  type ApprovalVerdict,
  type ReplyChannel,
} from '../core/conversation.ts';
import { allowedApprovers, policyFor, type ApprovalScope } from '../core/approval-policy.ts';
import { REPLY_APPROVAL_ACTIVITY, REPLY_APPROVAL_ENDED_ACTIVITY, REPLY_STATUS_ACTIVITY } from '../core/contracts/replies.ts';
import { approvalTarget } from '../core/contracts/tools.ts';
import { durationMs } from '../core/duration.ts';
import { AGENT_NAME, APPROVAL_WAITING_SINCE } from '../core/search-attributes.ts';
import type { RunEvent } from '../core/run-events.ts';
import { DEFAULT_APPROVAL_TIMEOUT, type AgentSpec, type Duration, type PlannedCall, type ToolSpec } from '../core/spec.ts';
import { APPROVAL_NOT_SHOWN, type ApprovalEnded, type ApprovalRequest, type TurnStatus } from '../core/replies.ts';
import { postReply } from './replies.ts';

/** How a decision the conversation accepted reaches the run that waits (through the `approvals:deliver` activity), validated here. */
export const approvalVerdictUpdate = defineUpdate<void, [ApprovalVerdict]>(APPROVAL_VERDICT_UPDATE);
/** Sent by a run to its conversation before anyone is asked, so the conversation can check decisions. */
export const approvalRequestedSignal = defineSignal<[ApprovalRequested]>(APPROVAL_REQUESTED_SIGNAL);
/** Sent by a run to its conversation when a request closes without a decision. */
export const approvalClosedSignal = defineSignal<[ApprovalClosed]>(APPROVAL_CLOSED_SIGNAL);

/** What a run knows of the conversation it answers in: where approvals and progress go. */
export interface RunConversation {
  /** Workflow id of the conversation. */
  workflowId: string;
  /** Where approval requests are posted. */
  channel: ReplyChannel;
  /** Who may decide when no policy names anyone (shown in the request; the conversation checks it). */
  approvers: string[];
  /** User ids of the turn's message authors, handed to tools as trusted context. @default [] (nobody asked: an ambient run) */
  requesters?: string[];
  /** The configured approvers and the turn's requesters, so the request shows who the tool's policy lets decide. @default approvers is shown */
  scope?: ApprovalScope;
  /** Approval timeout when neither tool nor agent sets one. @default '1 hour' */
  approvalTimeout?: Duration;
  /** Whether this run reports its steps to the conversation (the turn's own run does; sub-agents do not). @default false */
  reportProgress?: boolean;
  /** The turn's key on the reply channel, for status updates while a call waits for a person. @default no status updates */
  replyKey?: string;
}

/** Histogram of how long a request waited, by agent and outcome (approved, denied, timed_out); emitted once, never in replay. */
export const APPROVAL_WAIT_METRIC = 'agent_approval_wait';

export type ApprovalOutcome =
  | { outcome: 'approved' | 'denied'; by: string; at: string; requestId: string }
  | { outcome: 'timed_out'; timeout: Duration }
  | { outcome: 'unavailable' }
  | { outcome: 'not_shown'; reason: string };

export interface ApprovalDesk {
  /** Asks a person about one call and waits for the decision or the timeout. */
  ask(spec: AgentSpec, tool: ToolSpec, call: PlannedCall, step: number): Promise<ApprovalOutcome>;
}

/**
 * The run's side of approvals. The decision arrives as the run's `approvalVerdict` update, sent
 * by the conversation (whose `decideApproval` validator has already checked the request id and
 * the approver) and validated again here; the run waits, with a timer, and treats silence as a
 * refusal.
 */
export function openApprovalDesk(conversation: RunConversation | undefined, emit: (event: RunEvent) => void): ApprovalDesk {
  const waiting = new Map<string, ApprovalVerdict | undefined>();
  /** When each open request was asked (workflow time, ms), for the search attribute. */
  const openSince = new Map<string, number>();
  /**
   * A run waiting for a person carries `ApprovalWaitingSince` (its oldest open request), so a
   * visibility list finds the approvals waiting and their age.
   */
  const showWaiting = (agent: string) => {
    const oldest = openSince.size > 0 ? new Date(Math.min(...openSince.values())) : null;
    // Runs a conversation starts carry their agent's name; others (sub-agents, ambient runs) get it here.
    const named = oldest && !workflowInfo().typedSearchAttributes.get(AGENT_NAME);
    upsertSearchAttributes([{ key: APPROVAL_WAITING_SINCE, value: oldest }, ...(named ? [{ key: AGENT_NAME, value: agent }] : [])]);
  };
  const isWaiting = (requestId: string) => waiting.has(requestId) && waiting.get(requestId) === undefined;
  setHandler(
    approvalVerdictUpdate,
    (verdict) => {
      waiting.set(verdict.requestId, verdict);
    },
    {
      // A decision for a request this run does not wait for, or of no shape, never reaches history.
      validator: (verdict) => {
        if (verdict?.decision !== 'approve' && verdict?.decision !== 'deny') throw new Error('A decision is "approve" or "deny".');
        if (typeof verdict.approver !== 'string' || verdict.approver.trim() === '' || typeof verdict.decidedAt !== 'string')
          throw new Error('A decision names its approver and time.');
        if (!isWaiting(verdict.requestId)) throw new Error(`This run does not wait for approval request ${verdict.requestId}.`);
      },
    },
  );

  /** Status updates go one at a time, in order, so a later one never lands before an earlier one. */
  const postStatus = async (status: TurnStatus) => {
    if (conversation?.replyKey)
      await postReply(REPLY_STATUS_ACTIVITY, { channel: conversation.channel, key: conversation.replyKey, status });
  };

  return {
    async ask(spec, tool, call, step) {
      if (!conversation) {
        emit({ kind: 'approval', step, tool: tool.name, requestId: '', outcome: 'unavailable' });
        return { outcome: 'unavailable' };
      }
      const timeout = tool.approvalTimeout ?? spec.approvalTimeout ?? conversation.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT;
      const requestId = uuid4();
      const requested: ApprovalRequested = {
        runWorkflowId: workflowInfo().workflowId,
        requestId,
        tool: tool.name,
        args: call.args ?? (call.argsRef ? { argsRef: call.argsRef } : {}),
        // The conversation decides by its own copy of the policy; this list is what people see.
        approvers: conversation.scope ? allowedApprovers(policyFor(spec, tool.name), conversation.scope) : conversation.approvers,
        expiresAt: new Date(Date.now() + durationMs(timeout)).toISOString(),
        agent: spec.name,
        target: approvalTarget(tool),
      };
      waiting.set(requestId, undefined);
      emit({ kind: 'approval', step, tool: tool.name, requestId, outcome: 'requested' });
      const conversationHandle = getExternalWorkflowHandle(conversation.workflowId);
      // The conversation learns of the request before any person can see it.
      await conversationHandle.signal(approvalRequestedSignal, requested);
      await postStatus({ state: 'waiting_for_approval', tool: tool.name, requestId });
      // A request that could not be posted for another reason (the channel down) times out, and the model hears that.
      const { runWorkflowId: _run, agent: _agent, target: _target, ...asked } = requested;
      // Arguments stored by reference are read by the reply step: the person sees them, never the reference.
      const request: ApprovalRequest = {
        ...asked,
        conversationId: conversation.workflowId,
        ...(call.args === undefined && call.argsRef ? { argsRef: call.argsRef } : {}),
      };
      let notShown: string | undefined;
      await postReply(REPLY_APPROVAL_ACTIVITY, { channel: conversation.channel, request }, { requestId }, (failure) => {
        const cause = failure.cause;
        if (cause instanceof ApplicationFailure && cause.type === APPROVAL_NOT_SHOWN) notShown = cause.message;
      });
      if (notShown !== undefined) {
        // Nobody can approve what nobody was shown: the call is denied now, with the reason.
        waiting.delete(requestId);
        emit({ kind: 'approval', step, tool: tool.name, requestId, outcome: 'not_shown' });
        await conversationHandle.signal(approvalClosedSignal, { requestId, outcome: 'timed_out' }).catch(() => undefined);
        return { outcome: 'not_shown', reason: notShown };
      }
      // The request's message then shows how it ended, without its buttons. Not awaited: the
      // call runs, or the model hears why not, while the channel is told.
      const ended = (how: ApprovalEnded) => {
        void postReply(REPLY_APPROVAL_ENDED_ACTIVITY, { channel: conversation.channel, request, ended: how }, { requestId }).catch(
          () => undefined,
        );
      };
      const askedAt = Date.now();
      openSince.set(requestId, askedAt);
      showWaiting(spec.name);
      let decided: boolean;
      try {
        decided = await condition(() => waiting.get(requestId) !== undefined, timeout);
      } finally {
        // Also when the wait is cancelled: a run that goes on must not look as if it still waited.
        openSince.delete(requestId);
        showWaiting(spec.name);
      }
      const verdict = waiting.get(requestId);
      waiting.delete(requestId);
      const waited = metricMeter.createHistogram(
        APPROVAL_WAIT_METRIC,
        'int',
        'ms',
        'How long approval requests waited, to the decision or the timeout',
      );
      waited.record(Date.now() - askedAt, {
        agent: spec.name,
        outcome: decided && verdict ? (verdict.decision === 'approve' ? 'approved' : 'denied') : 'timed_out',
      });
      if (!decided || !verdict) {
        emit({ kind: 'approval', step, tool: tool.name, requestId, outcome: 'timed_out' });
        await conversationHandle.signal(approvalClosedSignal, { requestId, outcome: 'timed_out' }).catch(() => undefined);
        ended({ outcome: 'timed_out', at: new Date().toISOString() });
        return { outcome: 'timed_out', timeout };
      }
      const outcome = verdict.decision === 'approve' ? 'approved' : 'denied';
      emit({ kind: 'approval', step, tool: tool.name, requestId, outcome, by: verdict.approver });
      ended({ outcome, by: verdict.approver, at: verdict.decidedAt });
      return { outcome, by: verdict.approver, at: verdict.decidedAt, requestId };
    },
  };
}
