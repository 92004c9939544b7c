export interface CoalescingThrottleOptions<Value> {
  /** Least time between two sends of one key, measured from the end of the first. */
  intervalMs: number;
  send(key: string, value: Value): Promise<void>;
  /** @default Date.now */
  now?: () => number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Keys remembered at once; the longest idle are forgotten first. @default 10000 */
  maxKeys?: number;
}

interface Lane<Value> {
  latest: Value;
  latestVersion: number;
  sentVersion: number;
  lastSentAt: number;
  draining: boolean;
  waiters: { version: number; resolve(): void; reject(error: unknown): void }[];
}

/**
 * Sends values per key at most once per interval, in order, and coalesces: a value that
 * arrives while its key waits replaces the one waiting, and both callers resolve when the
 * newer one has been sent. A status message thus shows the latest state within a second,
 * without a request per step. A failed send rejects every caller it stood for.
 */
export function createCoalescingThrottle<Value>(options: CoalescingThrottleOptions<Value>): (key: string, value: Value) => Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxKeys = options.maxKeys ?? 10_000;
  const lanes = new Map<string, Lane<Value>>();

  async function drain(key: string, lane: Lane<Value>): Promise<void> {
    lane.draining = true;
    try {
      while (lane.sentVersion < lane.latestVersion) {
        const wait = lane.lastSentAt + options.intervalMs - now();
        if (wait > 0) await sleep(wait);
        const version = lane.latestVersion;
        const settled = lane.waiters.filter((waiter) => waiter.version <= version);
        lane.waiters = lane.waiters.filter((waiter) => waiter.version > version);
        try {
          await options.send(key, lane.latest);
          lane.lastSentAt = now();
          lane.sentVersion = version;
          for (const waiter of settled) waiter.resolve();
        } catch (error) {
          lane.sentVersion = version;
          for (const waiter of settled) waiter.reject(error);
        }
      }
    } finally {
      lane.draining = false;
    }
  }

  function forgetIdleLanes(): void {
    for (const [key, lane] of lanes) {
      if (lanes.size <= maxKeys) return;
      if (!lane.draining) lanes.delete(key);
    }
  }

  return function submit(key, value) {
    let lane = lanes.get(key);
    if (!lane) {
      lane = { latest: value, latestVersion: 0, sentVersion: 0, lastSentAt: Number.NEGATIVE_INFINITY, draining: false, waiters: [] };
      lanes.set(key, lane);
      forgetIdleLanes();
    } else {
      // Most recently used last, so the idle ones are forgotten first.
      lanes.delete(key);
      lanes.set(key, lane);
    }
    lane.latest = value;
    const version = ++lane.latestVersion;
    const done = new Promise<void>((resolve, reject) => lane.waiters.push({ version, resolve, reject }));
    if (!lane.draining) void drain(key, lane);
    return done;
  };
}
