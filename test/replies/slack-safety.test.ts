import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { markdownToMrkdwn, slackSafe } from '../../worker/replies/markdown.ts';
import { createSlackCaller } from '../../worker/replies/slack-client.ts';
import { findMarkedReplies, REPLY_EVENT_TYPE } from '../../worker/replies/slack-thread.ts';

/** Model text that tries to notify, mention or link where it should not; none of it may reach Slack as markup. */
const hostile: [string, string, string][] = [
  ['a broadcast', 'Hey <!channel> look', 'Hey &lt;!channel&gt; look'],
  ['@here as a word', 'ping @here and @everyone', 'ping @\u2060here and @\u2060everyone'],
  ['a user mention', 'ask <@U0BOSS>', 'ask &lt;@U0BOSS&gt;'],
  ['a group mention', 'cc <!subteam^S0ADMINS|@admins>', 'cc &lt;!subteam^S0ADMINS|@admins&gt;'],
  ['a channel link', 'see <#C0SECRET>', 'see &lt;#C0SECRET&gt;'],
  ['a javascript link', '[click](javascript:alert(1))', 'click (javascript:alert(1))'],
  ['a data link', '[img](data:text/html,hi)', 'img (data:text/html,hi)'],
  ['a slack: deep link', '<slack://open?team=T1>', '&lt;slack://open?team=T1&gt;'],
  ['a pipe in a URL cannot end it early', '[ok](https://good.example/a|b)', '<https://good.example/a%7Cb|ok>'],
  ['a link whose URL smuggles a mention', '[ok](https://good.example|<!channel>)', '[ok](https://good.example|&lt;!channel&gt;)'],
  ['a mention inside a link label', '[<!here>](https://x.example)', '<https://x.example|&lt;!here&gt;>'],
  ['a mention in code', '`<!channel>`', '`&lt;!channel&gt;`'],
  ['a mention in a fenced block', '```\n<!everyone>\n```', '```\n&lt;!everyone&gt;\n```'],
  ['private-use placeholders', 'a\uE0000\uE001b', 'a0b'],
  ['an email address is not a broadcast', 'write to ops@here.example', 'write to ops@here.example'],
];

describe('Slack output safety: model text mentions nobody and links only to http(s) and mailto', () => {
  it.each(hostile)('%s', (_name, markdown, mrkdwn) => {
    expect(markdownToMrkdwn(markdown)).toBe(mrkdwn);
  });

  it('keeps http(s) and mailto links', () => {
    expect(markdownToMrkdwn('[docs](https://example.com/a) and <mailto:ana@example.com>')).toBe(
      '<https://example.com/a|docs> and <mailto:ana@example.com>',
    );
  });

  it('lets mentions through only when the agent allows them', () => {
    expect(markdownToMrkdwn('ask <@U0BOSS> and <!here>', { allowMentions: true })).toBe('ask <@U0BOSS> and <!here>');
    expect(markdownToMrkdwn('[x](javascript:alert(1))', { allowMentions: true })).toBe('x (javascript:alert(1))');
    expect(slackSafe('<!channel> <https://ok.example>')).toBe('&lt;!channel> <https://ok.example>');
  });
});

describe("reply idempotency trusts only this app's own messages", () => {
  const marked = (ts: string, sender: Record<string, string>) => ({
    ts,
    ...sender,
    metadata: { event_type: REPLY_EVENT_TYPE, event_payload: { key: 'turn-1', role: 'answer', part: 0 } },
  });
  const client = (messages: unknown[]) => ({ conversations: { replies: async () => ({ ok: true, messages }) } }) as unknown as WebClient;
  const where = { channelId: 'C0GENERAL', threadTs: '1.000001' };

  it('ignores a marked message from a person or another bot', async () => {
    const messages = [marked('2.000001', { user: 'U0MALLORY' }), marked('3.000001', { user: 'U0OTHERBOT', bot_id: 'B0OTHER' })];
    const found = await findMarkedReplies(client(messages), createSlackCaller(), where, 'turn-1', { userId: 'U0BOT', botId: 'B0OURS' });
    expect(found.size).toBe(0);
  });

  it('finds its own, by bot id or bot user', async () => {
    const found = await findMarkedReplies(
      client([marked('4.000001', { user: 'U0BOT', bot_id: 'B0OURS' })]),
      createSlackCaller(),
      where,
      'turn-1',
      { userId: 'U0BOT', botId: 'B0OURS' },
    );
    expect([...found.values()]).toEqual(['4.000001']);
  });
});
