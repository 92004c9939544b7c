import { condition, defineQuery, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import type { ApprovalDecision, ConversationStart, IncomingMessage, MessageAccepted, PendingApproval, StopRequest } from '../../core/conversation.ts';

/**
 * A test peer of the conversation workflow: the same type name and update names, and no
 * agent behind them. It records what arrives, so dispatch tests can count turns before (and
 * apart from) the real workflow.
 */

export const STUB_PENDING_REQUEST = 'req-pending-1';

export interface StubState {
  start: ConversationStart;
  messages: IncomingMessage[];
  decisions: ApprovalDecision[];
  stops: StopRequest[];
}

export const stubStateQuery = defineQuery<StubState>('stubState');
export const closeSignal = defineSignal('close');

export async function conversation(start: ConversationStart): Promise<StubState> {
  const state: StubState = { start, messages: [], decisions: [], stops: [] };
  const turnOf = new Map<string, number>();
  let closed = false;
  setHandler(defineUpdate<MessageAccepted, [IncomingMessage]>('message'), (message) => {
    const known = turnOf.get(message.id);
    if (known !== undefined) return { duplicate: true, turn: known };
    state.messages.push(message);
    turnOf.set(message.id, state.messages.length);
    return { duplicate: false, turn: state.messages.length };
  });
  setHandler(
    defineUpdate<ApprovalDecision, [ApprovalDecision]>('decideApproval'),
    (decision) => {
      state.decisions.push(decision);
      return decision;
    },
    {
      validator: (decision) => {
        if (decision.requestId !== STUB_PENDING_REQUEST) throw new Error(`no pending request ${decision.requestId}`);
      },
    },
  );
  setHandler(defineUpdate<{ stopped: boolean }, [StopRequest]>('stop'), (request) => {
    state.stops.push(request);
    return { stopped: true };
  });
  setHandler(defineQuery<PendingApproval[]>('pendingApprovals'), () => [
    { requestId: STUB_PENDING_REQUEST, tool: 'send_invoice', args: {}, approvers: [], expiresAt: '2030-01-01T00:00:00.000Z', turn: 1, runWorkflowId: 'run-1' },
  ]);
  setHandler(stubStateQuery, () => state);
  setHandler(closeSignal, () => void (closed = true));
  await condition(() => closed);
  return state;
}
