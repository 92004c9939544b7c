import type { Client } from '@temporalio/client';
import { AGENT_RUN_WORKFLOW } from '../core/run-events.ts';
import { PayloadKeyError } from './payload-encryption.ts';
import type { AgentRunResult } from '../workflows/agent-run.ts';

/** One finished run's spend, as the run recorded it in its result. */
export interface RunCost {
  workflowId: string;
  agent: string;
  model: string;
  /** The person who asked; undefined for a scheduled (ambient) run. */
  person?: string;
  closedAt: Date;
  cost: number;
  promptTokens: number;
  cachedTokens: number;
  outputTokens: number;
}

export interface CostLine {
  key: string;
  runs: number;
  promptTokens: number;
  cachedTokens: number;
  outputTokens: number;
  cost: number;
}

/**
 * The spend of the agent runs that completed in [since, until): each run's result carries its
 * usage and cost (sub-agents included), so only top-level runs count. Runs that failed or were
 * stopped before answering recorded no result, and are not counted; nor are runs whose result
 * this client's payload keys cannot open (`onUnreadable` hears of each).
 */
export async function collectRunCosts(
  client: Client,
  period: { since: Date; until: Date },
  options: { onUnreadable?: (workflowId: string) => void } = {},
): Promise<RunCost[]> {
  const query = `WorkflowType = '${AGENT_RUN_WORKFLOW}' AND ExecutionStatus = 'Completed' AND CloseTime >= '${period.since.toISOString()}' AND CloseTime < '${period.until.toISOString()}'`;
  const costs: RunCost[] = [];
  for await (const execution of client.workflow.list({ query })) {
    let result: AgentRunResult;
    try {
      result = (await client.workflow.getHandle(execution.workflowId, execution.runId).result()) as AgentRunResult;
    } catch (error) {
      // A run written with payload keys this client lacks (another deployment in the namespace, or a key dropped from the set).
      if (!(error instanceof PayloadKeyError)) throw error;
      options.onUnreadable?.(execution.workflowId);
      continue;
    }
    // Runs recorded before costs were have no `spentBy`; sub-agents' runs are in their parent's.
    if (!result.spentBy || result.spentBy.depth > 0) continue;
    costs.push({
      workflowId: execution.workflowId,
      agent: result.spentBy.agent,
      model: result.spentBy.model,
      ...(result.spentBy.person ? { person: result.spentBy.person } : {}),
      closedAt: execution.closeTime ?? period.until,
      cost: result.usage.cost ?? 0,
      promptTokens: result.usage.promptTokens,
      cachedTokens: result.usage.cachedTokens ?? 0,
      outputTokens: result.usage.outputTokens,
    });
  }
  return costs;
}

/** Totals by a key (agent, person), dearest first. */
export function summariseCosts(costs: RunCost[], keyOf: (cost: RunCost) => string): CostLine[] {
  const lines = new Map<string, CostLine>();
  for (const cost of costs) {
    const key = keyOf(cost);
    const line = lines.get(key) ?? { key, runs: 0, promptTokens: 0, cachedTokens: 0, outputTokens: 0, cost: 0 };
    line.runs += 1;
    line.promptTokens += cost.promptTokens;
    line.cachedTokens += cost.cachedTokens;
    line.outputTokens += cost.outputTokens;
    line.cost = Math.round((line.cost + cost.cost) * 1_000_000) / 1_000_000;
    lines.set(key, line);
  }
  return [...lines.values()].sort((a, b) => b.cost - a.cost || a.key.localeCompare(b.key));
}

export function formatCostTable(title: string, lines: CostLine[]): string {
  const rows = [
    [title, 'runs', 'prompt tokens', 'cached', 'output tokens', 'cost (USD)'],
    ...lines.map((line) => [
      line.key,
      String(line.runs),
      String(line.promptTokens),
      `${line.promptTokens ? Math.round((100 * line.cachedTokens) / line.promptTokens) : 0}%`,
      String(line.outputTokens),
      line.cost.toFixed(4),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  '))
    .join('\n');
}
