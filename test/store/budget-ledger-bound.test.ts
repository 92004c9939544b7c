import { describe, expect, it } from 'vitest';
import { BUDGET_EXCEEDED } from '../../core/budgets.ts';
import { createBudgetLedger, type DailyCap } from '../../store/budget-ledger.ts';
import { useRecordBackends } from '../../testkit/record-backends.ts';

// The ledger's documented bound rests on create-if-absent counters: a hard link in a folder,
// S3's conditional write in a bucket. Both must hold it when workers race.
const backends = useRecordBackends('budgets');

describe.each(backends.all.filter(([name]) => name !== 'memory'))('daily budget counters in %s', (_name, filesOf) => {
  it('hold under concurrency: two ledgers (two workers) on one store overrun the cap by at most one call', async () => {
    const shared: DailyCap = { scope: 'person', id: `helper\u0000U-${crypto.randomUUID()}`, agent: 'helper', cap: 1 };
    const workers = [createBudgetLedger(filesOf()), createBudgetLedger(filesOf())];
    const callCost = 0.15;
    const now = Date.parse('2026-12-09T10:00:00Z');
    const spend = async (ledger: (typeof workers)[number], name: string) => {
      let calls = 0;
      for (let index = 0; ; index += 1) {
        try {
          await ledger.admit(`${name}-${index}`, [shared], now);
        } catch (error) {
          if ((error as { type?: string }).type === BUDGET_EXCEEDED) return calls;
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
        await ledger.settle(`${name}-${index}`, [shared], callCost, now);
        calls += 1;
      }
    };
    const calls = await Promise.all([spend(workers[0]!, 'one'), spend(workers[1]!, 'two'), spend(workers[0]!, 'three')]);
    const spent = await workers[1]!.spent(shared, '2026-12-09');
    expect(spent).toBeCloseTo((calls[0]! + calls[1]! + calls[2]!) * callCost, 6);
    expect(spent).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThanOrEqual(1 + callCost + 1e-9);
  });
});
