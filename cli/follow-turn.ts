import type { Client } from '@temporalio/client';
import { PENDING_APPROVALS_QUERY, TURNS_QUERY, type PendingApproval, type TurnSummary } from '../core/conversation.ts';
import { PROGRESS_QUERY, type RunEvent } from '../core/run-events.ts';
import type { AgentRunResult } from '../workflows/agent-run.ts';

export interface FollowTurnOptions {
  client: Client;
  conversationId: string;
  turn: number;
  /** Each progress event of the turn's run, once, in order. */
  onEvent(event: RunEvent): void;
  /** Each approval request of the turn, once; the turn waits while this runs. */
  onApproval(request: PendingApproval): Promise<void>;
  /** @default 150 */
  pollMs?: number;
}

export interface TurnOutcome {
  summary: TurnSummary;
  /** The whole answer, when the turn was answered. */
  answer?: string;
}

const FINISHED = new Set(['answered', 'stopped', 'failed']);

/**
 * Follows one turn of a conversation through its queries: the turn's status, its run's
 * progress, its pending approvals. Queries work from any process, so this needs no worker
 * in the same process; a query that fails while no worker holds the workflow is retried.
 */
export async function followTurn(options: FollowTurnOptions): Promise<TurnOutcome> {
  const conversation = options.client.workflow.getHandle(options.conversationId);
  const asked = new Set<string>();
  let seen = 0;
  const drain = async (runWorkflowId: string) => {
    const events = await options.client.workflow.getHandle(runWorkflowId).query<RunEvent[], [number]>(PROGRESS_QUERY, seen);
    for (const event of events) options.onEvent(event);
    seen += events.length;
  };
  for (;;) {
    try {
      const summary = (await conversation.query<TurnSummary[]>(TURNS_QUERY)).find((candidate) => candidate.turn === options.turn);
      if (summary?.runWorkflowId) await drain(summary.runWorkflowId).catch(() => undefined);
      if (summary && FINISHED.has(summary.status)) {
        if (summary.status !== 'answered' || !summary.runWorkflowId) return { summary };
        const result = (await options.client.workflow.getHandle(summary.runWorkflowId).result()) as AgentRunResult;
        return { summary, answer: result.answer };
      }
      const pending = await conversation.query<PendingApproval[]>(PENDING_APPROVALS_QUERY);
      for (const request of pending) {
        if (request.turn !== options.turn || asked.has(request.requestId)) continue;
        asked.add(request.requestId);
        await options.onApproval(request);
      }
    } catch {
      // No worker holds the conversation just now (a deploy, a crash): ask again.
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 150));
  }
}
