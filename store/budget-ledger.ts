import { ApplicationFailure } from '@temporalio/common';
import * as z from 'zod';
import { BUDGET_EXCEEDED, dailyCapMessage, utcDay } from '../core/budgets.ts';
import { createMemoryRecordFiles, recordFilesFor, type RecordFilesSource } from './record-files.ts';
import { createRecordStore, sha256Hex } from './record-store.ts';

/** One daily counter: what settled calls spent, the calls admitted and not yet settled, the dearest call so far. */
const counterStateSchema = z.object({
  spent: z.number(),
  pending: z.record(z.string(), z.object({ at: z.number(), estimate: z.number() })),
  largest: z.number(),
});
type CounterState = z.infer<typeof counterStateSchema>;

export interface DailyCap {
  scope: 'person' | 'agent';
  /** Who: the person's id, or the agent's name. */
  id: string;
  agent: string;
  cap: number;
}

/**
 * Daily spending counters shared by every worker, next to the transcript store. Each counter is
 * a chain of records written create-if-absent (`budgets/<scope>/<day>/<n>.json`, each holding
 * the whole state): a write that loses a race re-reads and tries again, so two workers never
 * both move a counter from the same state.
 *
 * Admission holds the overrun to one call: a call is admitted when the counter is below its cap
 * and either (a) nothing else is in flight, or (b) what is spent, what is in flight (each
 * counted at the dearest call so far) and one more such call fit under the cap. Otherwise it
 * waits for the calls in flight to settle. Only the call admitted under (a) can pass the cap,
 * so the overrun is at most one call (as long as no call costs more than the dearest before it).
 */
export interface BudgetLedger {
  /** Admits one call under every cap, or throws the non-retryable `BudgetExceeded` with the person's message. */
  admit(callId: string, caps: DailyCap[], now?: number, whileWaiting?: () => void): Promise<void>;
  /** Adds a finished call's cost (0 for a failed call) and closes its admission. */
  settle(callId: string, caps: DailyCap[], cost: number, now?: number): Promise<void>;
  /** What the counter says, for tests and `npm run costs`. */
  spent(cap: Pick<DailyCap, 'scope' | 'id'>, day: string): Promise<number>;
}

/** An admitted call that never settled (its worker died) stops counting after this long: a model call's start-to-close. */
const PENDING_EXPIRES_MS = 2 * 60_000;
/** How long an admission waits for calls in flight before it gives up for this attempt (Temporal retries it). */
const ADMIT_WAIT_MS = 60_000;

/** The counters in `records` (record files, or the transcript store settings they sit next to); by default in memory. */
export function createBudgetLedger(records: RecordFilesSource = createMemoryRecordFiles()): BudgetLedger {
  const hints = new Map<string, number>();
  const folder = (cap: Pick<DailyCap, 'scope' | 'id'>, day: string) => `budgets/${cap.scope}/${sha256Hex(cap.id).slice(0, 32)}/${day}`;
  /** A counter's records: its chain (folder) and their number in it (1, 2, …). */
  const counters = createRecordStore(recordFilesFor(records), {
    path: ({ chain, seq }: { chain: string; seq: number }) => `${chain}/${seq}.json`,
    schema: counterStateSchema,
  });

  /** The newest record of a chain: gallop from the last known number, then search back. */
  async function latest(path: string): Promise<{ seq: number; state: CounterState }> {
    const exists = async (seq: number) => seq === 0 || (await counters.get({ chain: path, seq })) !== undefined;
    let low = hints.get(path) ?? 0;
    if (!(await exists(low))) low = 0;
    let step = 1;
    let high = low + step;
    while (await exists(high)) {
      low = high;
      step *= 2;
      high = low + step;
    }
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await exists(middle)) low = middle;
      else high = middle;
    }
    hints.set(path, low);
    const state = low === 0 ? undefined : await counters.get({ chain: path, seq: low });
    return { seq: low, state: state ?? { spent: 0, pending: {}, largest: 0 } };
  }

  /** Applies `change` to the newest state and writes it as the next record; false when `change` declines. */
  async function update(path: string, change: (state: CounterState) => CounterState | undefined): Promise<boolean> {
    for (;;) {
      const { seq, state } = await latest(path);
      const next = change(state);
      if (!next) return false;
      if (await counters.createIfAbsent({ chain: path, seq: seq + 1 }, next)) {
        hints.set(path, seq + 1);
        return true;
      }
    }
  }

  const live = (state: CounterState, now: number) =>
    Object.fromEntries(Object.entries(state.pending).filter(([, entry]) => now - entry.at < PENDING_EXPIRES_MS));

  async function release(callId: string, caps: DailyCap[], day: string) {
    for (const cap of caps) {
      await update(folder(cap, day), (state) => {
        if (!state.pending[callId]) return undefined;
        const { [callId]: _gone, ...pending } = state.pending;
        return { ...state, pending };
      });
    }
  }

  return {
    async admit(callId, caps, now = Date.now(), whileWaiting) {
      const day = utcDay(now);
      const started = Date.now();
      for (;;) {
        const admitted: DailyCap[] = [];
        let busy = false;
        for (const cap of caps) {
          let refusal: string | undefined;
          const ok = await update(folder(cap, day), (state) => {
            const pending = live(state, Date.now());
            if (pending[callId]) return undefined;
            if (state.spent >= cap.cap) {
              refusal = dailyCapMessage(cap.scope, cap.agent, cap.cap, state.spent, now);
              return undefined;
            }
            const inFlight = Object.values(pending).reduce((sum, entry) => sum + entry.estimate, 0);
            const fits = state.spent + inFlight + state.largest <= cap.cap;
            if (Object.keys(pending).length > 0 && !fits) {
              busy = true;
              return undefined;
            }
            return { ...state, pending: { ...pending, [callId]: { at: Date.now(), estimate: state.largest } } };
          });
          if (refusal !== undefined) {
            await release(callId, admitted, day);
            throw ApplicationFailure.nonRetryable(refusal, BUDGET_EXCEEDED);
          }
          if (busy) break;
          if (ok) admitted.push(cap);
        }
        if (!busy) return;
        // Someone else's call is in flight near the cap: let go, wait for it to settle, try again.
        await release(callId, admitted, day);
        if (Date.now() - started > ADMIT_WAIT_MS)
          throw new Error('Budget counters stayed busy: another call near the cap did not settle; retrying.');
        whileWaiting?.();
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
      }
    },
    async settle(callId, caps, cost, now = Date.now()) {
      const day = utcDay(now);
      for (const cap of caps) {
        await update(folder(cap, day), (state) => {
          const { [callId]: admitted, ...pending } = state.pending;
          if (!admitted && cost === 0) return undefined;
          return { spent: Math.round((state.spent + cost) * 1_000_000) / 1_000_000, pending, largest: Math.max(state.largest, cost) };
        });
      }
    },
    async spent(cap, day) {
      return (await latest(folder(cap, day))).state.spent;
    },
  };
}
