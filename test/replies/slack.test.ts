import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyChannel } from '../../core/conversation.ts';
import { APPROVAL_ACTION_IDS, APPROVAL_TOKEN_PURPOSE, approvalTokenClaimsSchema } from '../../events/inbound-event.ts';
import { verifyToken } from '../../events/signed-token.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackReplyAdapter, type SlackReplyAdapterOptions } from '../../worker/replies/slack.ts';

const TOKEN = 'xoxb-test-token';
const APPROVAL_SECRET = 'test-approval-secret-51c2';
const CHANNEL = 'C0GENERAL';

let slack: SlackApiServer;

beforeAll(async () => {
  slack = await startSlackApiServer({ tokens: [TOKEN], channels: [CHANNEL, 'C0OTHER'] });
});
afterAll(async () => {
  await slack?.close();
});

function adapter(overrides: Partial<SlackReplyAdapterOptions> = {}, token = TOKEN) {
  return createSlackReplyAdapter({
    client: createSlackWebClient({ token, apiUrl: slack.url }),
    approvalTokenSecret: APPROVAL_SECRET,
    ...overrides,
  });
}

/** A thread started by a person, as the ingress sees it. */
function newThread(channel = CHANNEL): ReplyChannel & { kind: 'slack' } {
  const threadTs = slack.addUserMessage({ channel, user: 'U0ANA', text: 'summarise the launch thread' });
  return { kind: 'slack', teamId: 'T0TEAM', channelId: channel, threadTs };
}

function botReplies(thread: { channelId: string; threadTs: string }) {
  return slack.messages(thread.channelId, thread.threadTs).filter((message) => message.botId);
}

function callsOf(method: string, since: number) {
  return slack.calls.filter((call) => call.method === method && call.at >= since);
}

describe('Slack reply adapter against the Slack API stand-in', () => {
  it('posts a status message in the thread, edits it as the turn moves on, then posts the answer below it', async () => {
    const replies = adapter();
    const thread = newThread();
    const elsewhere = newThread('C0OTHER');
    const started = Date.now();

    await replies.status(thread, 'turn-1', { state: 'thinking', step: 1 });
    // Three steps within a second: coalesced, so the message skips to the latest.
    await Promise.all([
      replies.status(thread, 'turn-1', { state: 'tool', step: 1, tool: 'get_weather' }),
      replies.status(thread, 'turn-1', { state: 'thinking', step: 2 }),
      replies.status(thread, 'turn-1', { state: 'tool', step: 2, tool: 'calculate' }),
    ]);
    await replies.answer(thread, 'turn-1', 'It will rain in **Paris** tomorrow.');
    await replies.status(thread, 'turn-1', { state: 'done' });

    const [root, status, answer, ...rest] = slack.messages(thread.channelId, thread.threadTs);
    expect(rest).toEqual([]);
    expect(root?.user).toBe('U0ANA');
    expect(status).toMatchObject({ threadTs: thread.threadTs, text: ':white_check_mark: Done', edits: 2 });
    expect(answer).toMatchObject({ threadTs: thread.threadTs, text: 'It will rain in *Paris* tomorrow.', edits: 0 });
    expect(botReplies(elsewhere)).toEqual([]);

    // One post for the status, one update for the three coalesced steps, one for done; each update a second or more after the last.
    expect(callsOf('chat.postMessage', started).map((call) => call.args.text)).toEqual([
      ':hourglass_flowing_sand: Thinking… (step 1)',
      'It will rain in *Paris* tomorrow.',
    ]);
    const updates = callsOf('chat.update', started);
    expect(updates.map((call) => call.args.text)).toEqual([':hammer_and_wrench: Running `calculate` (step 2)', ':white_check_mark: Done']);
    const posts = callsOf('chat.postMessage', started);
    expect(updates[0]!.at - posts[0]!.at).toBeGreaterThanOrEqual(990);
    expect(updates[1]!.at - updates[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('never moves a finished status back to an earlier step (a late retry of an older call)', async () => {
    const replies = adapter({ statusIntervalMs: 0 });
    const thread = newThread();
    await replies.status(thread, 'turn-late', { state: 'thinking', step: 1 });
    await replies.status(thread, 'turn-late', { state: 'stopped' });
    await replies.status(thread, 'turn-late', { state: 'tool', step: 1, tool: 'late' });
    expect(botReplies(thread).map((message) => message.text)).toEqual([':octagonal_sign: Stopped']);
  });

  it('turns Markdown into Slack mrkdwn', async () => {
    const replies = adapter();
    const thread = newThread();
    await replies.answer(
      thread,
      'turn-md',
      [
        '## Launch plan',
        'The **risks** are *small*; see [the doc](https://example.com/doc?a=1&b=2) and ~~old notes~~.',
        '',
        '- one <thing>',
        '- two `a < b`',
        '',
        '```python',
        'print("hi")',
        '```',
      ].join('\n'),
    );
    expect(botReplies(thread).map((message) => message.text)).toEqual([
      [
        '*Launch plan*',
        'The *risks* are _small_; see <https://example.com/doc?a=1&b=2|the doc> and ~old notes~.',
        '',
        '• one &lt;thing&gt;',
        '• two `a &lt; b`',
        '',
        '```',
        'print("hi")',
        '```',
      ].join('\n'),
    ]);
  });

  it('splits a long answer on paragraph boundaries and, retried, posts nothing twice (even from a fresh process)', async () => {
    const thread = newThread();
    const paragraphs = Array.from({ length: 12 }, (_, index) => `Paragraph ${index}: ${'lorem ipsum '.repeat(70).trim()}.`);
    const text = paragraphs.join('\n\n');
    expect(text.length).toBeGreaterThan(9000);

    await adapter().answer(thread, 'turn-long', text);
    const parts = botReplies(thread).map((message) => message.text);
    expect(parts.length).toBeGreaterThanOrEqual(4);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(3000);
    expect(parts.join('\n\n')).toBe(text);
    for (const part of parts) expect(part).toMatch(/^Paragraph \d+:/);

    // The activity is retried: on the same worker, and on another one that remembers nothing.
    await adapter().answer(thread, 'turn-long', text);
    const lookupsBefore = slack.calls.filter((call) => call.method === 'conversations.replies').length;
    await adapter().answer(thread, 'turn-long', text);
    expect(slack.calls.filter((call) => call.method === 'conversations.replies').length).toBe(lookupsBefore + 1);
    expect(botReplies(thread).map((message) => message.text)).toEqual(parts);
  });

  it('finishes a half-posted answer: only the missing parts are posted', async () => {
    const thread = newThread();
    const text = Array.from({ length: 3 }, (_, index) => `Part ${index} ${'x'.repeat(2000)}`).join('\n\n');
    slack.failNext('chat.postMessage', 'internal_error', 1, 1);
    const first = adapter();
    // The second part fails transiently (a retryable plain error), as if the worker died mid-answer.
    await expect(first.answer(thread, 'turn-half', text)).rejects.not.toBeInstanceOf(ApplicationFailure);
    expect(botReplies(thread).map((message) => message.text.slice(0, 6))).toEqual(['Part 0']);
    await adapter().answer(thread, 'turn-half', text);
    await first.answer(thread, 'turn-half', text);
    expect(botReplies(thread).map((message) => message.text.slice(0, 6))).toEqual(['Part 0', 'Part 1', 'Part 2']);
  });

  it('honours a 429: the update waits for Retry-After and lands once', async () => {
    const replies = adapter({ statusIntervalMs: 0 });
    const thread = newThread();
    await replies.status(thread, 'turn-429', { state: 'thinking', step: 1 });
    slack.rateLimit('chat.update', 1, 1);
    const started = Date.now();
    await replies.status(thread, 'turn-429', { state: 'tool', step: 1, tool: 'search' });

    const updates = callsOf('chat.update', started);
    expect(updates.map((call) => call.outcome)).toEqual(['ratelimited', 'ok']);
    expect(updates[1]!.at - updates[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(botReplies(thread)).toHaveLength(1);
    expect(botReplies(thread)[0]).toMatchObject({ text: ':hammer_and_wrench: Running `search` (step 1)', edits: 1 });
  });

  it('hands a long Retry-After back to Temporal as a retryable failure with nextRetryDelay', async () => {
    const replies = adapter({ rateLimits: { maxInlineWaitMs: 5_000 } });
    const thread = newThread();
    slack.rateLimit('conversations.replies', 120, 1);
    const failure = await replies.answer(thread, 'turn-slow', 'hello').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'SlackRateLimited', nonRetryable: false, nextRetryDelay: 120_000 });
    expect(botReplies(thread)).toEqual([]);
  });

  it('asks for approval with buttons whose value is a signed token naming the request and conversation, once', async () => {
    const replies = adapter();
    const thread = newThread();
    const request = {
      requestId: 'req-42',
      conversationId: `slack:T0TEAM:${CHANNEL}:${thread.threadTs}`,
      tool: 'send_invoice',
      args: { customer: 'ACME <corp>', amount: 1200 },
      approvers: ['U0BOSS'],
      expiresAt: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
    };
    await replies.requestApproval(thread, request);
    await adapter().requestApproval(thread, request);

    const messages = botReplies(thread);
    expect(messages).toHaveLength(1);
    const blocks = messages[0]!.blocks as { type: string; text?: { text: string }; elements?: { action_id: string; value: string }[] }[];
    expect(blocks[0]!.text!.text).toContain('`send_invoice`');
    expect(blocks[1]!.text!.text).toContain('ACME &lt;corp&gt;');
    expect(JSON.stringify(blocks.find((block) => block.type === 'context'))).toContain('<@U0BOSS>');
    const buttons = blocks.find((block) => block.type === 'actions')!.elements!;
    expect(buttons.map((button) => button.action_id)).toEqual([APPROVAL_ACTION_IDS.approve, APPROVAL_ACTION_IDS.deny]);
    for (const button of buttons) {
      const verified = verifyToken(button.value, APPROVAL_SECRET, { purpose: APPROVAL_TOKEN_PURPOSE });
      expect(verified.ok).toBe(true);
      if (!verified.ok) continue;
      expect(approvalTokenClaimsSchema.parse(verified.claims)).toEqual({ requestId: 'req-42', conversationId: request.conversationId });
      // Valid for the request's hour and a little more, not the default week.
      expect(verified.claims.expiresAt - Date.now() / 1000).toBeLessThan(3700);
      expect(verifyToken(button.value, 'another-secret', { purpose: APPROVAL_TOKEN_PURPOSE }).ok).toBe(false);
    }
  });

  it('shows on the request how it ended, without buttons; a retry of the request then posts nothing new', async () => {
    const thread = newThread();
    const request = (requestId: string) => ({
      requestId,
      conversationId: `slack:T0TEAM:${CHANNEL}:${thread.threadTs}`,
      tool: 'send_invoice',
      args: { customer: 'ACME' },
      approvers: ['U0BOSS'],
      expiresAt: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
    });
    await adapter().requestApproval(thread, request('req-denied'));
    await adapter().requestApproval(thread, request('req-late'));
    await adapter().requestApproval(thread, request('req-withdrawn'));
    const at = new Date().toISOString();
    await adapter().approvalEnded!(thread, request('req-denied'), { outcome: 'denied', by: 'U0BOSS', at });
    // Retried (a fresh process): the same message, edited again.
    await adapter().approvalEnded!(thread, request('req-denied'), { outcome: 'denied', by: 'U0BOSS', at });
    await adapter().approvalEnded!(thread, request('req-late'), { outcome: 'timed_out', at });
    await adapter().approvalEnded!(thread, request('req-withdrawn'), { outcome: 'withdrawn', at });
    // Never posted: nothing to edit, and nothing is posted.
    await adapter().approvalEnded!(thread, request('req-never'), { outcome: 'approved', by: 'U0BOSS', at });
    await adapter().requestApproval(thread, request('req-denied'));

    const messages = botReplies(thread);
    expect(messages.map((message) => message.text)).toEqual([
      'Denied: send_invoice',
      'Not decided in time: send_invoice',
      'Withdrawn: send_invoice',
    ]);
    for (const message of messages)
      expect((message.blocks as { type: string }[]).map((block) => block.type)).toEqual(['section', 'section', 'context']);
    expect(JSON.stringify(messages[0]!.blocks)).toContain('Denied by <@U0BOSS>');
    expect(JSON.stringify(messages[1]!.blocks)).toContain('Nobody decided in time');
    expect(JSON.stringify(messages[2]!.blocks)).toContain('The turn ended before anyone decided');
  });

  it('refuses for good what Slack refuses for good: a wrong token, an unknown channel', async () => {
    const thread = newThread();
    const wrongToken = await adapter({}, 'xoxb-revoked')
      .answer(thread, 'turn-x', 'hi')
      .catch((error: unknown) => error);
    expect(wrongToken).toMatchObject({ type: 'SlackRefused', nonRetryable: true });
    expect((wrongToken as Error).message).toContain('invalid_auth');

    const nowhere = await adapter()
      .answer({ ...thread, channelId: 'C0NOWHERE' }, 'turn-y', 'hi')
      .catch((error: unknown) => error);
    expect(nowhere).toMatchObject({ type: 'SlackRefused', nonRetryable: true });
    expect((nowhere as Error).message).toContain('channel_not_found');

    const email = await adapter()
      .status({ kind: 'none' }, 'turn-z', { state: 'done' })
      .catch((error: unknown) => error);
    expect(email).toMatchObject({ type: 'WrongReplyChannel', nonRetryable: true });
  });
});
