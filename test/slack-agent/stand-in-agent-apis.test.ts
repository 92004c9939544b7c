import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';

const TOKEN = 'xoxb-stand-in';
let slack: SlackApiServer;

beforeAll(async () => {
  slack = await startSlackApiServer({ tokens: [TOKEN], streamLimitMs: 300, appendsPerSecond: 2 });
});
afterAll(() => slack?.close());

async function call(method: string, body: Record<string, unknown>) {
  const response = await fetch(`${slack.url}${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('the Slack stand-in speaks the agent APIs, with their refusals and limits', () => {
  it('assistant.threads.setStatus: DMs only, at most ten loading messages, cleared by a reply', async () => {
    const thread = slack.addUserMessage({ channel: 'D1', user: 'U1', text: 'hi' });
    expect((await call('assistant.threads.setStatus', { channel_id: 'C1', thread_ts: thread, status: 'is thinking…' })).body).toEqual({
      ok: false,
      error: 'channel_type_not_supported',
    });
    expect(
      (
        await call('assistant.threads.setStatus', {
          channel_id: 'D1',
          thread_ts: thread,
          status: 'x',
          loading_messages: Array(11).fill('…'),
        })
      ).body,
    ).toEqual({ ok: false, error: 'invalid_arguments' });
    expect((await call('assistant.threads.setStatus', { channel_id: 'D1', status: 'x' })).body).toEqual({
      ok: false,
      error: 'invalid_arguments',
    });
    expect((await call('assistant.threads.setStatus', { channel_id: 'D1', thread_ts: thread, status: 'is thinking…' })).body).toEqual({
      ok: true,
    });
    expect(slack.currentStatus('D1', thread)).toBe('is thinking…');
    await call('chat.postMessage', { channel: 'D1', thread_ts: thread, text: 'the answer' });
    expect(slack.currentStatus('D1', thread)).toBe('');
  });

  it('text streams: start, append, stop; a stopped or expired stream refuses appends; an open one refuses chat.update', async () => {
    const thread = slack.addUserMessage({ channel: 'D1', user: 'U1', text: 'hi' });
    expect((await call('chat.startStream', { channel: 'C1', thread_ts: thread, markdown_text: 'x' })).body).toEqual({
      ok: false,
      error: 'missing_recipient_team_id',
    });
    expect((await call('chat.startStream', { channel: 'D1', markdown_text: 'x' })).body).toEqual({ ok: false, error: 'invalid_arguments' });
    const started = await call('chat.startStream', { channel: 'D1', thread_ts: thread, markdown_text: 'Hello' });
    const ts = started.body.ts as string;
    expect((await call('chat.appendStream', { channel: 'D1', ts, markdown_text: ', world' })).body).toMatchObject({ ok: true });
    expect((await call('chat.update', { channel: 'D1', ts, text: 'no' })).body).toEqual({ ok: false, error: 'message_in_streaming_state' });
    expect((await call('chat.stopStream', { channel: 'D1', ts, markdown_text: '.' })).body).toMatchObject({ ok: true });
    expect((await call('chat.appendStream', { channel: 'D1', ts, markdown_text: 'more' })).body).toEqual({
      ok: false,
      error: 'message_not_in_streaming_state',
    });
    expect(slack.messages('D1', thread).at(-1)?.text).toBe('Hello, world.');

    const late = (await call('chat.startStream', { channel: 'D1', thread_ts: thread, markdown_text: 'Slow' })).body.ts as string;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await call('chat.appendStream', { channel: 'D1', ts: late, markdown_text: 'er' })).body).toEqual({
      ok: false,
      error: 'message_not_in_streaming_state',
    });
    expect((await call('chat.update', { channel: 'D1', ts: late, markdown_text: 'Slower, but whole.' })).body).toMatchObject({ ok: true });
  });

  it('appends past the per-stream rate answer 429 with Retry-After', async () => {
    const thread = slack.addUserMessage({ channel: 'D1', user: 'U1', text: 'hi' });
    const ts = (await call('chat.startStream', { channel: 'D1', thread_ts: thread, markdown_text: 'a' })).body.ts as string;
    const answers = [];
    for (let index = 0; index < 3; index++) answers.push(await call('chat.appendStream', { channel: 'D1', ts, markdown_text: 'b' }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
    expect(answers[2]?.retryAfter).toBe('1');
    expect(answers[2]?.body).toEqual({ ok: false, error: 'ratelimited' });
  });
});
