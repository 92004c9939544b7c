import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';

/** Spaces calls evenly in one process: the n-th call starts no earlier than n / perSecond after the first. */
export interface RateLimiter {
  /** Resolves when the caller may start; rejects when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<void>;
}

/**
 * A per-process limit on model calls, for model calls dispatched eagerly on the main queue,
 * which the model queue's server-side limit cannot reach. No burst: calls are spaced by
 * 1 / perSecond, so N processes together start at most N × perSecond calls in any second
 * (plus one each). Waits count against the model activity's timeouts: meant for limits the
 * fleet rarely reaches, not as a queue.
 */
export function createRateLimiter(perSecond: number, now: () => number = () => performance.now()): RateLimiter {
  if (!(perSecond > 0)) throw new Error(`A rate limit must be a positive number of calls per second, not ${perSecond}.`);
  const spacing = 1000 / perSecond;
  let next = -Infinity;
  return {
    async acquire(signal) {
      const at = Math.max(now(), next);
      next = at + spacing;
      const wait = at - now();
      if (wait > 0) await sleep(wait, undefined, signal ? { signal } : {});
    },
  };
}

/** Wraps an activity so that each attempt takes its turn from `limiter` first. */
export function rateLimited<I, O>(limiter: RateLimiter, activity: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input) => {
    await limiter.acquire(Context.current().cancellationSignal);
    return activity(input);
  };
}

/** This process's share of the fleet's model call rate, or its own limit, whichever is smaller; undefined when unlimited. */
export function modelCallsPerProcess(options: {
  /** The fleet's limit. */
  modelCallsPerSecond?: number;
  /** The most processes of the fleet at once. */
  maxWorkers?: number;
  /** This process's own limit. */
  modelCallsPerSecondPerWorker?: number;
}): number | undefined {
  let share: number | undefined;
  if (options.modelCallsPerSecond) {
    if (!options.maxWorkers || !(options.maxWorkers >= 1)) {
      throw new Error(
        'modelCallsPerSecond is shared by every worker process: set maxWorkers (WORKER_MAX_COUNT), the most processes the deployment runs at once.',
      );
    }
    share = options.modelCallsPerSecond / options.maxWorkers;
  }
  const own = options.modelCallsPerSecondPerWorker;
  if (share === undefined) return own;
  return own === undefined ? share : Math.min(share, own);
}
