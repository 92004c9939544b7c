import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../store/canonical-json.ts';
import { mapWithConcurrency } from '../../store/content-address.ts';
import { isMessageRef, refOf } from '../../store/transcript-store.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}');
  });

  it('sorts by code unit, integer-like keys included (JSON.stringify would put them first)', () => {
    expect(canonicalJson({ b: 1, 10: 2, 2: 3, B: 4 })).toBe('{"10":2,"2":3,"B":4,"b":1}');
  });

  it("follows JSON.stringify's rules for undefined, functions, non-finite numbers and toJSON", () => {
    expect(canonicalJson({ gone: undefined, fn: () => 1, list: [undefined, NaN, Infinity], at: new Date(0) })).toBe(
      '{"at":"1970-01-01T00:00:00.000Z","list":[null,null,null]}',
    );
  });

  it('is stable across a parse round trip', () => {
    const value = { text: 'Olá 👋 \u2028', n: 1e21, small: 5e-7, nested: { b: [1, { d: 2, c: 3 }], a: null } };
    const text = canonicalJson(value);
    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });

  it('refuses cycles and BigInt with a TypeError; allows the same object twice', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
    const shared = { x: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });
});

describe('refOf', () => {
  it('is sha256 of the canonical JSON, independent of key order', () => {
    // sha256('{"a":1,"b":2}')
    expect(refOf({ b: 2, a: 1 })).toBe('sha256:43258cff783fe7036d8a43033f830adfc60ec037382473548ac742b888292777');
    expect(refOf({ a: 1, b: 2 })).toBe(refOf({ b: 2, a: 1 }));
    expect(refOf({ a: 1, b: 3 })).not.toBe(refOf({ a: 1, b: 2 }));
    expect(refOf([1, 2])).not.toBe(refOf([2, 1]));
  });

  it('gives well-formed refs, which isMessageRef accepts and nothing else passes', () => {
    expect(isMessageRef(refOf('x'))).toBe(true);
    for (const bad of ['sha256:' + 'A'.repeat(64), 'sha256:' + 'a'.repeat(63), 'md5:' + 'a'.repeat(64), 'a'.repeat(64), 42, undefined]) {
      expect(isMessageRef(bad)).toBe(false);
    }
  });
});

describe('mapWithConcurrency', () => {
  it('keeps order and never has more than the limit in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapWithConcurrency(
      Array.from({ length: 50 }, (_, index) => index),
      4,
      async (item) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, (item * 7) % 5));
        inFlight--;
        return item * 2;
      },
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, index) => index * 2));
    expect(peak).toBe(4);
  });

  it('starts no more calls after one fails', async () => {
    const started: number[] = [];
    await expect(
      mapWithConcurrency([0, 1, 2, 3, 4, 5, 6, 7], 2, async (item) => {
        started.push(item);
        if (item === 1) throw new Error('boom');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }),
    ).rejects.toThrow('boom');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(started.length).toBeLessThanOrEqual(3);
  });
});
