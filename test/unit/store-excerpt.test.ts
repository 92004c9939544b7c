import { describe, expect, it } from 'vitest';
import { boundResult, type ResultExcerpt } from '../../store/excerpt.ts';
import { refOf } from '../../store/transcript-store.ts';

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

describe('boundResult', () => {
  it('returns a result that fits unchanged, the same object', () => {
    const result = { temperature: 21, unit: 'C' };
    expect(boundResult(result, 1_000, refOf(result))).toBe(result);
    expect(boundResult('short', 1_000, refOf('short'))).toBe('short');
  });

  it('cuts a 10 MB result to an excerpt whose JSON is under the bound, saying it was cut, how large it was and where it is', () => {
    const rows = Array.from({ length: 100_000 }, (_, index) => ({ id: index, name: `row ${index}`, payload: 'x'.repeat(60) }));
    const result = { rows };
    const totalBytes = bytesOf(result);
    expect(totalBytes).toBeGreaterThan(10_000_000);
    const ref = refOf(result);

    const bounded = boundResult(result, 16_384, ref) as ResultExcerpt;
    expect(bytesOf(bounded)).toBeLessThanOrEqual(16_384);
    expect(bytesOf(bounded)).toBeGreaterThan(16_000); // the room is used, not wasted
    expect(bounded).toMatchObject({ truncated: true, totalBytes, ref });
    expect(bounded.note).toMatch(/^Result cut: showing the first \d+ of \d+ bytes; the whole result is stored as sha256:[0-9a-f]{64}\.$/);
    expect(bounded.note).toContain(`of ${totalBytes} bytes`);
    expect(bounded.note).toContain(ref);
    expect(bounded.note).toContain(`first ${Buffer.byteLength(bounded.excerpt)} of`);
    // The excerpt is the start of the result's (canonical) JSON.
    expect(bounded.excerpt.startsWith('{"rows":[{"id":0,"name":"row 0","payload":"xxx')).toBe(true);
  });

  it('shows a long string result as text, not as an escaped JSON string', () => {
    const log = 'line "one"\nline two\n'.repeat(10_000);
    const bounded = boundResult(log, 2_000, refOf(log)) as ResultExcerpt;
    expect(bounded.excerpt.startsWith('line "one"\nline two\n')).toBe(true);
    expect(bounded.totalBytes).toBe(Buffer.byteLength(log));
    expect(bytesOf(bounded)).toBeLessThanOrEqual(2_000);
  });

  it('stays under the bound when escaping and multi-byte characters inflate the JSON, and never splits a surrogate pair', () => {
    const hostile = '"\\\u0001👋é'.repeat(50_000);
    for (const maxBytes of [400, 401, 402, 403, 1_000, 4_099]) {
      const bounded = boundResult(hostile, maxBytes, refOf(hostile)) as ResultExcerpt;
      expect(bytesOf(bounded)).toBeLessThanOrEqual(maxBytes);
      const last = bounded.excerpt.charCodeAt(bounded.excerpt.length - 1);
      expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
      expect(hostile.startsWith(bounded.excerpt)).toBe(true);
    }
  });

  it('refuses a bound too small for the note itself, naming the smallest that works', () => {
    const big = 'x'.repeat(10_000);
    expect(() => boundResult(big, 50, refOf(big))).toThrow(/allow at least \d+ bytes/);
  });
});
