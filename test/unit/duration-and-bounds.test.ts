import { msToNumber } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { addNewest, pushBounded, setNewest } from '../../core/bounded.ts';
import { durationMs } from '../../core/duration.ts';

describe('durationMs', () => {
  it.each([
    '1 hour',
    '24 hours',
    '10 minutes',
    '30 seconds',
    '1.5h',
    '2d',
    '1 week',
    '1y',
    '250ms',
    '250',
    '5 Minutes',
    '.5s',
    '3 mins',
    '1 hr',
  ] as const)('reads %s as the SDK does', (value) => {
    expect(durationMs(value)).toBe(msToNumber(value));
  });

  it('passes milliseconds through and refuses what the SDK refuses', () => {
    expect(durationMs(1_500)).toBe(1_500);
    for (const bad of ['soon', '5 fortnights', '', 'x'.repeat(101)]) {
      expect(() => durationMs(bad as '1s')).toThrow(TypeError);
      expect(() => msToNumber(bad as '1s')).toThrow();
    }
  });
});

describe('bounded collections', () => {
  it('pushBounded drops the oldest items and says how many', () => {
    const items = [1, 2, 3];
    expect(pushBounded(items, 4, 3)).toBe(1);
    expect(items).toEqual([2, 3, 4]);
    expect(pushBounded(items, 5, 10)).toBe(0);
  });

  it('setNewest moves a known key to the newest place and forgets the oldest past the limit', () => {
    const map = new Map([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    setNewest(map, 'a', 10, 3);
    expect([...map]).toEqual([
      ['b', 2],
      ['c', 3],
      ['a', 10],
    ]);
    setNewest(map, 'd', 4, 2);
    expect([...map]).toEqual([
      ['a', 10],
      ['d', 4],
    ]);
  });

  it('addNewest keeps the newest members of a set', () => {
    const set = new Set(['a', 'b']);
    addNewest(set, 'a', 2);
    addNewest(set, 'c', 2);
    expect([...set]).toEqual(['a', 'c']);
  });
});
