import { TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';
import { describe, expect, it } from 'vitest';
import { createRateLimiter, modelCallsPerProcess } from '../../worker/model-rate-limit.ts';
import { loadWorkerSettings } from '../../config/worker-settings.ts';

describe('per-process model rate limit', () => {
  it('spaces calls evenly, with no burst', async () => {
    const limiter = createRateLimiter(20);
    const started = performance.now();
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        await limiter.acquire();
        times.push(performance.now() - started);
      }),
    );
    // Five calls at 20 a second: the first at once, the fifth no earlier than 4 × 50 ms.
    expect(times[0]).toBeLessThan(40);
    expect(Math.max(...times)).toBeGreaterThanOrEqual(195);
  });

  it('gives up waiting when the activity is cancelled', async () => {
    const limiter = createRateLimiter(1);
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toThrow(/abort/i);
  });

  it('refuses a limit that is not a positive number', () => {
    expect(() => createRateLimiter(0)).toThrow(/positive/);
  });
});

describe("a process's share of the fleet's model limit", () => {
  it('is the fleet limit divided by the most processes, or the process limit when that is smaller', () => {
    expect(modelCallsPerProcess({})).toBeUndefined();
    expect(modelCallsPerProcess({ modelCallsPerSecond: 10, maxWorkers: 8 })).toBe(1.25);
    expect(modelCallsPerProcess({ modelCallsPerSecond: 10, maxWorkers: 2, modelCallsPerSecondPerWorker: 3 })).toBe(3);
    expect(modelCallsPerProcess({ modelCallsPerSecondPerWorker: 3 })).toBe(3);
  });

  it('refuses a fleet limit without the fleet size, in the worker and in its settings', () => {
    expect(() => modelCallsPerProcess({ modelCallsPerSecond: 10 })).toThrow(/maxWorkers/);
    const settings = (env: Record<string, string>) =>
      loadWorkerSettings({ TEMPORAL_ADDRESS: 'temporal:7233', GOOGLE_API_KEY: 'key', PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON, ...env });
    expect(() => settings({ MODEL_CALLS_PER_SECOND: '10' })).toThrow(/WORKER_MAX_COUNT/);
    expect(() => settings({ MODEL_CALLS_PER_SECOND: '10', WORKER_MAX_COUNT: 'two' })).toThrow(/WORKER_MAX_COUNT must be a whole number/);
    expect(settings({ MODEL_CALLS_PER_SECOND: '10', WORKER_MAX_COUNT: '8' }).agents).toMatchObject({
      MODEL_CALLS_PER_SECOND: 10,
      WORKER_MAX_COUNT: 8,
    });
  });
});
