/**
 * Spending caps of an agent, in US dollars at the prices of core/models.ts. Pure: workflows
 * import it. Daily caps count UTC days: they reset at 00:00 UTC.
 */

export interface BudgetSpec {
  /** Most one run (one turn, sub-agents included) may spend; checked before each model call. */
  perRun?: number;
  /** Most one person may spend with this agent in a UTC day, over all their conversations. */
  perPersonPerDay?: number;
  /** Most this agent may spend in a UTC day, everyone together. */
  perAgentPerDay?: number;
}

/** Failure type of a model call that a daily cap refused; its message is what the person reads. */
export const BUDGET_EXCEEDED = 'BudgetExceeded';

export function formatDollars(amount: number): string {
  return amount >= 1 ? `$${amount.toFixed(2)}` : `$${amount.toFixed(amount >= 0.01 ? 2 : 4)}`;
}

/** The next 00:00 UTC after `now`. */
export function nextUtcMidnight(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
}

export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** What the person reads when a run's own cap stops it. */
export function perRunMessage(cap: number, spent: number): string {
  return `I stopped: this turn has spent ${formatDollars(spent)}, its cap of ${formatDollars(cap)} (the agent's budget.perRun). The cap starts afresh with your next message.`;
}

/** What the person reads when a daily cap stops the turn. */
export function dailyCapMessage(scope: 'person' | 'agent', agent: string, cap: number, spent: number, now: number): string {
  const reset = nextUtcMidnight(now);
  const minutes = Math.max(1, Math.ceil((reset - now) / 60_000));
  const inTime = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  const who =
    scope === 'person'
      ? `you have spent ${formatDollars(spent)} with agent "${agent}" today, your daily cap of ${formatDollars(cap)} (budget.perPersonPerDay)`
      : `agent "${agent}" has spent ${formatDollars(spent)} today, its daily cap of ${formatDollars(cap)} (budget.perAgentPerDay)`;
  return `I stopped: ${who}. It resets at 00:00 UTC (${new Date(reset).toISOString().slice(0, 16).replace('T', ' ')} UTC, in ${inTime}).`;
}
