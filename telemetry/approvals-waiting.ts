import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import { AGENT_NAME, APPROVAL_WAITING_SINCE } from '../core/search-attributes.ts';

/**
 * Approvals waiting for a person, as Temporal's visibility sees them: running workflows of the
 * worker's task queue whose `ApprovalWaitingSince` is set (workflows/approvals.ts sets it when
 * a run asks and removes it when the request is decided, times out or is cancelled). The count
 * is the fleet's, whichever worker asks, and survives worker restarts; it trails the runs by
 * visibility's lag (about a second). A run waiting on two calls at once counts once, with its
 * older request's age.
 */

/** Runs listed at most per reading: past this the gauges say `truncated`, not a wrong number. @default 1000 */
export const MAX_WAITING_LISTED = 1000;

export const APPROVAL_GAUGES = {
  /** Runs waiting for a person's approval, by agent. */
  waiting: 'agent_approvals_waiting',
  /** Seconds the oldest of them has waited, by agent (0 when none waits). */
  oldestWait: 'agent_approval_oldest_wait',
} as const;

export interface WaitingApprovals {
  byAgent: Map<string, { runs: number; oldestSince: Date }>;
  /** More runs waited than were listed. */
  truncated: boolean;
}

/** The visibility query of runs of `taskQueue` waiting for approval. */
export function waitingApprovalsQuery(taskQueue: string): string {
  if (taskQueue.includes("'")) throw new Error(`A task queue name with a quote cannot be queried: ${taskQueue}`);
  return `${APPROVAL_WAITING_SINCE.name} IS NOT NULL AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`;
}

export async function readWaitingApprovals(client: Client, taskQueue: string, limit = MAX_WAITING_LISTED): Promise<WaitingApprovals> {
  const byAgent = new Map<string, { runs: number; oldestSince: Date }>();
  let listed = 0;
  for await (const run of client.workflow.list({ query: waitingApprovalsQuery(taskQueue), pageSize: Math.min(limit, 1000) })) {
    if (listed === limit) return { byAgent, truncated: true };
    listed += 1;
    const since = run.typedSearchAttributes.get(APPROVAL_WAITING_SINCE);
    if (!since) continue;
    const agent = run.typedSearchAttributes.get(AGENT_NAME) ?? 'unknown';
    const entry = byAgent.get(agent);
    if (!entry) byAgent.set(agent, { runs: 1, oldestSince: since });
    else byAgent.set(agent, { runs: entry.runs + 1, oldestSince: since < entry.oldestSince ? since : entry.oldestSince });
  }
  return { byAgent, truncated: false };
}

/**
 * Sets the gauges from a reading. Every agent named in `agents` and every agent seen before
 * gets a value, 0 when none of its runs waits, so a gauge falls back when the wait ends.
 */
export function approvalGauges(meter: MetricMeter, taskQueue: string, agents: Iterable<string>) {
  const waiting = meter.createGauge(APPROVAL_GAUGES.waiting, 'int', 'runs', 'Runs waiting for a person to approve a tool call');
  const oldest = meter.createGauge(APPROVAL_GAUGES.oldestWait, 'int', 's', 'How long the oldest waiting approval request has waited');
  const known = new Set(agents);
  return {
    set(reading: WaitingApprovals, now: number): void {
      for (const agent of reading.byAgent.keys()) known.add(agent);
      for (const agent of known) {
        const entry = reading.byAgent.get(agent);
        const tags = { agent, taskQueue };
        waiting.set(entry?.runs ?? 0, tags);
        oldest.set(entry ? Math.max(0, Math.round((now - entry.oldestSince.getTime()) / 1000)) : 0, tags);
      }
    },
  };
}
