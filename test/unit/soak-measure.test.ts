import { describe, expect, it } from 'vitest';
import {
  countAnswers,
  growthAfterWarmup,
  growthOfLongestLife,
  matchAmbientPosts,
  parseFaultKinds,
  planFaults,
  seededRandom,
  type Expected,
} from '../../bench/soak/measure.ts';

// npm run soak takes minutes and runs no part in CI; these are its pure parts, which CI runs.

const series = (values: number[], everyMs = 5000, pid = 1) => values.map((value, index) => ({ atMs: index * everyMs, value, pid }));

describe('npm run soak: growth after the warm-up', () => {
  it('compares the mean of the last quarter with the mean of the first, leaving the warm-up out', () => {
    // Warm-up (first 20 s) climbs from 100 to 190; after it: 200, 200, 204, 206, 210, 210, 210, 214.
    const samples = series([100, 130, 160, 190, 200, 200, 204, 206, 210, 210, 210, 214]);
    const growth = growthAfterWarmup(samples, 20_000);
    expect(growth).toEqual({ baseline: 200, end: 212, percent: 6, samples: 8 });
  });

  it('reports a shrinking figure as negative growth, and none without four samples after the warm-up', () => {
    expect(growthAfterWarmup(series([50, 40, 40, 40, 30, 30, 30, 30]), 0)?.percent).toBe(-33.3);
    expect(growthAfterWarmup(series([1, 2, 3, 4, 5]), 10_000)).toBeUndefined();
  });

  it('measures the longest life of a process that was killed and started again, from its own start', () => {
    // pid 1 lives 0–15 s; pid 2 starts at 20 s and lives 40 s, flat after its first 10 s.
    const first = series([300, 310, 320, 330], 5000, 1);
    const second = [400, 100, 100, 100, 100, 101, 101, 101, 101].map((value, index) => ({ atMs: 20_000 + index * 5000, value, pid: 2 }));
    const growth = growthOfLongestLife([...first, ...second], 5000);
    expect(growth).toMatchObject({ pid: 2, lifeMs: 40_000, baseline: 100, end: 101, percent: 1 });
  });
});

describe('npm run soak: exactly-once counting', () => {
  const expected: Expected[] = [
    { key: 'FX0001', kind: 'slack', sentAt: 1000, accepted: true },
    { key: 'FX0002', kind: 'slack', sentAt: 2000, accepted: true },
    { key: 'FX0003', kind: 'email', sentAt: 3000, accepted: true },
    { key: 'FX0004', kind: 'email', sentAt: 4000, accepted: false },
    { key: 'ambient:1', kind: 'ambient run', sentAt: 5000, accepted: true },
  ];
  const answers = new Map([
    ['FX0001', [1500]],
    ['FX0002', [4000, 9000]],
    ['ambient:1', [5400]],
  ]);

  it('counts answered exactly once, more than once and lost per kind and in all, and times the first answer', () => {
    const [all, slack, email, ambient] = countAnswers(expected, answers);
    expect(all).toEqual({
      kind: 'all',
      expected: 5,
      exactlyOnce: 2,
      answeredMoreThanOnce: 1,
      lost: 1,
      notAccepted: 1,
      endToEndMs: { p50: 500, p99: 2000, max: 2000 },
    });
    expect(slack).toMatchObject({ kind: 'slack', exactlyOnce: 1, answeredMoreThanOnce: 1, lost: 0 });
    // The email the edge never took is not lost: its sender was told.
    expect(email).toMatchObject({ kind: 'email', expected: 2, exactlyOnce: 0, lost: 1, notAccepted: 1, endToEndMs: null });
    expect(ambient).toMatchObject({ kind: 'ambient run', exactlyOnce: 1, endToEndMs: { p50: 400 } });
  });

  it('gives each ambient post to the run that began last before the moment the post names', () => {
    const runs = [
      { id: 'run-a', startedAt: Date.parse('2026-12-07T20:00:00.000Z') },
      { id: 'run-b', startedAt: Date.parse('2026-12-07T20:01:00.000Z') },
      { id: 'run-c', startedAt: Date.parse('2026-12-07T20:02:00.000Z') },
    ];
    const posts = new Map([
      ['2026-12-07T20:00:00.020Z', [1]],
      // run-b began late (no worker at its fire) and posted twice under the same moment.
      ['2026-12-07T20:01:30.000Z', [2, 3]],
    ]);
    expect(matchAmbientPosts(runs, posts)).toEqual(
      new Map([
        ['run-a', [1]],
        ['run-b', [2, 3]],
      ]),
    );
  });
});

describe('npm run soak: seeded faults', () => {
  it('places the same faults for the same seed, apart, and none in the quiet tail', () => {
    const options = { durationMs: 30 * 60_000, minGapMs: 25_000, maxGapMs: 60_000, quietTailMs: 15_000 };
    const plan = planFaults(seededRandom(7), options);
    expect(planFaults(seededRandom(7), options)).toEqual(plan);
    expect(planFaults(seededRandom(8), options)).not.toEqual(plan);
    expect(plan.length).toBeGreaterThan(20);
    expect(new Set(plan.map((fault) => fault.kind))).toEqual(new Set(['worker-kill', 'temporal-cut', 'model-errors']));
    for (const [index, fault] of plan.entries()) {
      expect(fault.atMs + fault.forMs).toBeLessThanOrEqual(options.durationMs - options.quietTailMs);
      if (index > 0) expect(fault.atMs).toBeGreaterThanOrEqual(plan[index - 1]!.atMs + plan[index - 1]!.forMs + options.minGapMs);
    }
  });

  it('draws only the kinds named: without worker kills one worker lives the whole run, while cuts and outages still come', () => {
    const options = { durationMs: 30 * 60_000, minGapMs: 25_000, maxGapMs: 60_000, quietTailMs: 15_000 };
    // Every kind named is the default plan, seed for seed.
    expect(planFaults(seededRandom(7), { ...options, kinds: parseFaultKinds('worker-kill,temporal-cut,model-errors') })).toEqual(
      planFaults(seededRandom(7), options),
    );
    const kinds = parseFaultKinds('model-errors, temporal-cut');
    const plan = planFaults(seededRandom(7), { ...options, kinds });
    expect(planFaults(seededRandom(7), { ...options, kinds })).toEqual(plan);
    expect(plan.length).toBeGreaterThan(15);
    expect(new Set(plan.map((fault) => fault.kind))).toEqual(new Set(['temporal-cut', 'model-errors']));
    expect(planFaults(seededRandom(7), { ...options, kinds: parseFaultKinds('none') })).toEqual([]);
  });

  it('reads --faults in one order whatever the order given, and refuses an unknown kind or an empty list', () => {
    expect(parseFaultKinds('model-errors,temporal-cut')).toEqual(['temporal-cut', 'model-errors']);
    expect(parseFaultKinds('worker-kill')).toEqual(['worker-kill']);
    expect(parseFaultKinds('none')).toEqual([]);
    expect(() => parseFaultKinds('worker-kill,disk-full')).toThrow(/--faults worker-kill,disk-full: .* \(not disk-full\)/);
    expect(() => parseFaultKinds('')).toThrow(/name fault kinds from worker-kill, temporal-cut, model-errors/);
  });
});
