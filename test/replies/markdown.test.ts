import { TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';
import { describe, expect, it } from 'vitest';
import { markdownToMrkdwn, splitMessage, streamedMarkdown } from '../../worker/replies/markdown.ts';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { ConfigError } from '../../config/load-settings.ts';
import { emailReplyAdapterFrom, replyAdaptersFrom } from '../../worker/replies/adapters.ts';
import { loadWorkerSettings } from '../../config/worker-settings.ts';

describe('Markdown → Slack mrkdwn', () => {
  const cases: [string, string, string][] = [
    ['bold', 'a **b** c __d__', 'a *b* c *d*'],
    ['italic', 'an *aside* and _another_', 'an _aside_ and _another_'],
    ['bold inside italic text stays bold', '***both***', '*_both_*'],
    ['strike', '~~old~~ new', '~old~ new'],
    ['link', 'see [the docs](https://example.com/a_b?x=1&y=2)', 'see <https://example.com/a_b?x=1&y=2|the docs>'],
    ['link text with a pipe', '[a | b](https://x.io)', '<https://x.io|a ¦ b>'],
    ['autolink', '<https://example.com>', '<https://example.com>'],
    ['image', '![chart](https://x.io/c.png)', '<https://x.io/c.png|chart>'],
    ['heading', '### Next **steps**', '*Next steps*'],
    ['bullets', '- a\n* b\n+ c', '• a\n• b\n• c'],
    ['nested bullets', '- a\n  - b', '• a\n    • b'],
    ['task list', '- [ ] todo\n- [x] done', '• ☐ todo\n• ☑ done'],
    ['ordered', '1. one\n2) two', '1. one\n2. two'],
    ['quote', '> *said*', '> _said_'],
    ['escapes', 'a < b && c > d', 'a &lt; b &amp;&amp; c &gt; d'],
    ['inline code untouched by emphasis', 'run `a **b** <c>`', 'run `a **b** &lt;c&gt;`'],
    ['fenced code loses its language', '```js\nconst x = a**b;\n```', '```\nconst x = a**b;\n```'],
    ['unclosed fence is closed', '```\ncode', '```\ncode\n```'],
    ['rule', '---', '──────────'],
    ['snake_case is not italic', 'use my_var_name here', 'use my_var_name here'],
    ['multiplication is not italic', '2 * 3 * 4', '2 * 3 * 4'],
  ];
  it.each(cases)('%s', (_name, markdown, mrkdwn) => {
    expect(markdownToMrkdwn(markdown)).toBe(mrkdwn);
  });
});

describe('splitting long messages', () => {
  it('keeps short text whole', () => {
    expect(splitMessage('hello\n\nworld', 3000)).toEqual(['hello\n\nworld']);
  });

  it('cuts on paragraph boundaries, each part within the limit', () => {
    const paragraphs = Array.from({ length: 8 }, (_, index) => `${index} ${'x'.repeat(900)}`);
    const parts = splitMessage(paragraphs.join('\n\n'), 3000);
    expect(parts).toHaveLength(3);
    expect(parts.join('\n\n')).toBe(paragraphs.join('\n\n'));
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(3000);
  });

  it('cuts a paragraph longer than a message at spaces, and a code block so each part is fenced', () => {
    const long = 'word '.repeat(1500).trim();
    const words = splitMessage(long, 3000);
    expect(words.length).toBe(3);
    for (const part of words) expect(part.length).toBeLessThanOrEqual(3000);
    expect(words.join(' ')).toBe(long);

    const code = `\`\`\`\n${Array.from({ length: 200 }, (_, index) => `line ${index} ${'y'.repeat(30)}`).join('\n')}\n\`\`\``;
    const parts = splitMessage(code, 3000);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(3000);
      expect(part.startsWith('```\n') && part.endsWith('\n```')).toBe(true);
    }
  });
});

describe('reply settings', () => {
  const worker = (env: Record<string, string>) =>
    loadWorkerSettings({ TEMPORAL_ADDRESS: 'temporal:7233', GOOGLE_API_KEY: 'key', PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON, ...env });

  it('builds no adapter without its token or secret, and names the missing variable otherwise', () => {
    expect(replyAdaptersFrom(worker({}))).toEqual({});
    expect(() => worker({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/APPROVAL_TOKEN_SECRET/);
    expect(() => worker({ EMAIL_REPLY_TOKEN_SECRET: 's' })).toThrow(/APPROVAL_TOKEN_SECRET/);
    expect(() => worker({ SLACK_BOT_TOKEN: 'xoxb-1', APPROVAL_TOKEN_SECRET: 's', SLACK_API_URL: 'not a url' })).toThrow(/SLACK_API_URL/);
    expect(Object.keys(replyAdaptersFrom(worker({ SLACK_BOT_TOKEN: 'xoxb-1', APPROVAL_TOKEN_SECRET: 's' })))).toEqual(['slack']);
    expect(
      emailReplyAdapterFrom(
        worker({ EMAIL_REPLY_TOKEN_SECRET: 's', APPROVAL_TOKEN_SECRET: 's' }).email,
        new SESv2Client({ region: 'us-east-1' }),
      ),
    ).toBeDefined();
  });

  it('names every missing variable of the worker in one error', () => {
    let message = '';
    try {
      loadWorkerSettings({ SLACK_BOT_TOKEN: 'xoxb-1' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/TEMPORAL_ADDRESS is not set/);
    expect(message).toMatch(/GOOGLE_API_KEY is not set/);
    expect(message).toMatch(/APPROVAL_TOKEN_SECRET is not set/);
  });
});

describe('the streamed path', () => {
  it('passes the same last word as a posted answer, on any cut of the text', () => {
    const answer = 'Hi <!channel> and <@U123>: **see** <https://x.io> or <javascript:alert(1)>';
    expect(streamedMarkdown(answer)).toBe('Hi &lt;!channel> and &lt;@U123>: **see** <https://x.io> or &lt;javascript:alert(1)>');
    // A mention cut in two by the stream's buffer is still text in both halves.
    expect(streamedMarkdown('ping <!ev') + streamedMarkdown('eryone>')).toBe('ping &lt;!everyone>');
  });
});
