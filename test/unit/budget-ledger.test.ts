import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUDGET_EXCEEDED } from '../../core/budgets.ts';
import { createLocalRecordFiles } from '../../store/record-files.ts';
import { createBudgetLedger, type DailyCap } from '../../store/budget-ledger.ts';

const directory = mkdtempSync(join(tmpdir(), 'budgets-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const cap: DailyCap = { scope: 'person', id: 'helper\u0000U-ANA', agent: 'helper', cap: 1 };
const at = (iso: string) => Date.parse(iso);

describe('daily budget counters', () => {
  it('refuse past the cap with the person\'s message, and start afresh at 00:00 UTC', async () => {
    const ledger = createBudgetLedger(createLocalRecordFiles({ directory }));
    const evening = at('2026-12-07T21:30:00Z');
    await ledger.admit('a', [cap], evening);
    await ledger.settle('a', [cap], 1.2, evening);
    const refused = await ledger.admit('b', [cap], evening).catch((error: unknown) => error);
    expect(refused).toMatchObject({ type: BUDGET_EXCEEDED, nonRetryable: true });
    expect((refused as Error).message).toBe(
      'I stopped: you have spent $1.20 with agent "helper" today, your daily cap of $1.00 (budget.perPersonPerDay). It resets at 00:00 UTC (2026-12-08 00:00 UTC, in 2 h 30 min).',
    );
    // The next UTC day has its own counter.
    const morning = at('2026-12-08T00:00:01Z');
    await expect(ledger.admit('c', [cap], morning)).resolves.toBeUndefined();
    expect(await ledger.spent(cap, '2026-12-07')).toBe(1.2);
    expect(await ledger.spent(cap, '2026-12-08')).toBe(0);
  });

  it('hold under concurrency: two ledgers (two workers) on one folder overrun the cap by at most one call', async () => {
    const shared = { ...cap, id: 'helper\u0000U-BEN', cap: 1 };
    const workers = [createBudgetLedger(createLocalRecordFiles({ directory })), createBudgetLedger(createLocalRecordFiles({ directory }))];
    const callCost = 0.15;
    const now = at('2026-12-09T10:00:00Z');
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
