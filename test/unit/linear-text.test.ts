import { describe, expect, it } from 'vitest';
import { bodyText, htmlToText, stripQuotedReply } from '../../functions/email/email-text.ts';
import { markdownToMrkdwn, splitMessage } from '../../worker/replies/markdown.ts';

/** 1 MB of one hostile pattern. */
const MB = 1024 * 1024;
const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);

/**
 * Generous: linear code takes a few hundred milliseconds on 1 MB; a quadratic pattern takes
 * minutes. On a machine so loaded that ordinary input of the same size takes longer, the bound
 * grows with it (five times the ordinary input's time), which still catches anything quadratic.
 */
const BOUND_MS = 1000;
const boundFor = (ordinaryMs: number) => Math.max(BOUND_MS, 5 * ordinaryMs);

/** The fastest of three runs: a busy machine's pauses (GC, other processes) do not count; a quadratic scan still does. */
function timed<Result>(work: () => Result): { result: Result; ms: number } {
  let best = Number.POSITIVE_INFINITY;
  let result: Result | undefined;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    result = work();
    best = Math.min(best, performance.now() - started);
    if (best < BOUND_MS / 4) break;
  }
  return { result: result as Result, ms: best };
}

const htmlInputs: [string, string][] = [
  ['runs of <', fill('<')],
  ['<a without >', fill('<a ')],
  ['nested tags', `${'<div><span><b>'.repeat(MB / 60)}x${'</b></span></div>'.repeat(MB / 60)}`],
  ['unclosed comments', fill('<!-- ')],
  ['unclosed style', fill('<style>')],
  ['unclosed blockquote', fill('<blockquote x')],
  ['many closed blockquotes', fill('<blockquote>q</blockquote>t')],
  ['entities', fill('&amp;lt;&nbsp;')],
  ['attributes without end', `<p ${fill('a="b" ')}`],
  ['on-handler look-alikes', fill(' onaaaaaaaa')],
];

const ordinaryHtml = fill('<p>Dear Ana, the <b>numbers</b> for <a href="https://example.com/q1">Q1</a> are attached &amp; final.</p>\n');
const ordinaryMarkdown = fill(
  '## Plan\n- **Bold** point with *emphasis*, `code` and [a link](https://example.com/a).\n1. Next ~~old~~ step.\n\nPlain prose, a sentence or two of it.\n',
);

describe('HTML to text is linear (1 MB of hostile input, < 1 s each)', () => {
  let ordinaryMs = 0;
  it('ordinary HTML, for the scale', () => {
    ordinaryMs = timed(() => bodyText({ html: ordinaryHtml })).ms;
    expect(ordinaryMs).toBeLessThan(BOUND_MS * 5);
  });

  it.each(htmlInputs)('%s', (_name, html) => {
    const { ms } = timed(() => bodyText({ html }));
    console.log(`html ${_name}: ${ms.toFixed(0)} ms (ordinary: ${ordinaryMs.toFixed(0)} ms)`);
    expect(ms).toBeLessThan(boundFor(ordinaryMs));
  });

  it('still reads ordinary HTML', () => {
    expect(
      htmlToText(
        '<html><head><title>t</title><style>p{}</style></head><body><p>Hello&nbsp;<b>Ana</b></p><div>a &lt; b</div><blockquote>old</blockquote><!-- hidden -->Bye<br>now</body></html>',
      ),
    ).toBe('Hello Ana\na < b\nBye\nnow');
    expect(htmlToText('1 < 2 and 3 > 2')).toBe('1 < 2 and 3 > 2');
    expect(htmlToText('&amp;lt;')).toBe('&lt;');
  });

  it('quote stripping on one 1 MB line', () => {
    const { ms } = timed(() => stripQuotedReply(`On ${fill('a ')}`));
    expect(ms).toBeLessThan(BOUND_MS);
  });
});

const markdownInputs: [string, string][] = [
  ['runs of *', fill('*')],
  ['openers of ** without closers', fill('**a ')],
  ['openers of * without closers', fill('*a ')],
  ['runs of _', fill('_')],
  ['openers of __', fill('__a ')],
  ['runs of `', fill('`')],
  [
    'backtick runs of growing length',
    Array.from({ length: 1400 }, (_, index) => '`'.repeat(index + 1))
      .join('a')
      .slice(0, MB),
  ],
  ['runs of [', fill('[')],
  ['[ with a far ]', `${fill('[a')}]`],
  ['link look-alikes', fill('[a](b ')],
  ['runs of <', fill('<')],
  ['autolink look-alikes', fill('<https://a')],
  ['~~ openers', fill('~~a ')],
  ['heading of #s', `# ${fill('a #')}`],
  ['table-like', fill('| a ')],
  ['many lines of emphasis', fill('**a** *b* [c](https://d) `e`\n')],
];

describe('Markdown to mrkdwn is linear (1 MB of hostile input, < 1 s each)', () => {
  let ordinaryMs = 0;
  it('ordinary Markdown, for the scale', () => {
    ordinaryMs = timed(() => splitMessage(markdownToMrkdwn(ordinaryMarkdown), 3000)).ms;
    expect(ordinaryMs).toBeLessThan(BOUND_MS * 5);
  });

  it.each(markdownInputs)('%s', (_name, markdown) => {
    const { result, ms } = timed(() => splitMessage(markdownToMrkdwn(markdown), 3000));
    console.log(`markdown ${_name}: ${ms.toFixed(0)} ms (ordinary: ${ordinaryMs.toFixed(0)} ms)`);
    expect(ms).toBeLessThan(boundFor(ordinaryMs));
    expect(result.length).toBeGreaterThan(0);
  });
});
