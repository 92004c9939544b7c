import { describe, expect, it } from 'vitest';
import { markdownToMrkdwn } from '../../worker/replies/markdown.ts';

/**
 * Model text is untrusted, and a conversion that grows with the square of its input blocks the
 * worker (`[a](` repeated once took 11 s for 64 KB). Each hostile pattern is converted at
 * 256 KB and at 1 MB: linear work takes about four times as long for four times the text
 * (measured 3 to 7.5 with the heap's growth), quadratic work sixteen times. The bound is on
 * that ratio, not on a wall-clock figure, so a loaded machine does not fail it.
 */
const hostile: [string, (size: number) => string][] = [
  ['`[a](` repeated', (size) => '[a]('.repeat(size / 4)],
  ['`![a](` repeated', (size) => '![a]('.repeat(size / 5)],
  ['`[a](b` repeated', (size) => '[a](b'.repeat(size / 5)],
  ['`[a](b "` repeated (unclosed titles)', (size) => '[a](b "'.repeat(size / 7)],
  ['nested brackets', (size) => `${'['.repeat(size / 2)}${']'.repeat(size / 2)}`],
  ['nested links', (size) => `${'[a'.repeat(size / 4)}${'](b)'.repeat(size / 4)}`],
  ['unclosed backticks', (size) => '`a'.repeat(size / 2)],
  [
    'backtick runs of many lengths',
    (size) => Array.from({ length: Math.floor(size / 17.5) }, (_, index) => `${'`'.repeat((index % 32) + 1)}x`).join(''),
  ],
  ['`*` run', (size) => '*'.repeat(size)],
  ['`*a` repeated', (size) => '*a'.repeat(size / 2)],
  ['`**a` repeated', (size) => '**a'.repeat(size / 3)],
  ['`_` run', (size) => '_'.repeat(size)],
  ['`__a` repeated', (size) => '__a'.repeat(size / 3)],
  ['`~~a` repeated', (size) => '~~a'.repeat(size / 3)],
  ['`<` run', (size) => '<'.repeat(size)],
  ['`<http:` repeated', (size) => '<http:'.repeat(size / 6)],
  ['`<@U123` repeated', (size) => '<@U123'.repeat(size / 6)],
  ['heading with `#` runs', (size) => `# ${'# '.repeat(size / 2)}x`],
  ['table-like line', (size) => `|${' |'.repeat(size / 2)}x`],
];

function timed(text: string): number {
  const started = performance.now();
  markdownToMrkdwn(text, { allowMentions: true });
  return performance.now() - started;
}

describe('Markdown → mrkdwn on hostile input of 1 MB', () => {
  // On the old quadratic code one of these takes minutes: the timeout turns that into a failure.
  // A machine shared with other jobs can slow one size's every run: a second and third try
  // measure again (quadratic work fails them all: its ratio is 16, not 4).
  it.each(hostile)('%s grows linearly', { timeout: 60_000, retry: 2 }, (_name, make) => {
    const quarter = make(256 * 1024);
    const whole = make(1024 * 1024);
    expect(whole.length).toBeGreaterThan(900 * 1024);
    timed(quarter); // warm the code paths before measuring
    // Interleaved, fastest of seven: both sizes meet the same machine load and the same heap.
    let small = Number.POSITIVE_INFINITY;
    let large = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 7; run++) {
      small = Math.min(small, timed(quarter));
      large = Math.min(large, timed(whole));
    }
    // Below a few milliseconds timer noise dominates; the floor only ever loosens the ratio.
    const ratio = large / Math.max(small, 5);
    expect(ratio, `256 KB: ${small.toFixed(1)} ms, 1 MB: ${large.toFixed(1)} ms`).toBeLessThan(10);
  });

  it('still renders what it must among the hostile text', () => {
    expect(markdownToMrkdwn('[a](b [x](https://x.io)')).toBe('[a](b <https://x.io|x>');
    expect(markdownToMrkdwn('[a](b "t") and [c](https://c.io "title")')).toBe('a (b) and <https://c.io|c>');
  });
});
