import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../worker/model-rate-limit.ts';

describe('per-process model rate limit', () => {
  it('spaces calls evenly, with no burst', async () => {
    const limiter = createRateLimiter(20);
    const started = performance.now();
    const times: number[] = [];
    await Promise.all(Array.from({ length: 5 }, async () => {
      await limiter.acquire();
      times.push(performance.now() - started);
    }));
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
