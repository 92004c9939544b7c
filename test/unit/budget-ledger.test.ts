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
  it("refuse past the cap with the person's message, and start afresh at 00:00 UTC", async () => {
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
});
