import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';

const TOKEN = 'xoxb-stand-in';
let slack: SlackApiServer;

beforeAll(async () => {
  slack = await startSlackApiServer({ tokens: [TOKEN], channels: ['C1'] });
});
afterAll(async () => {
  await slack?.close();
});

async function call(
  method: string,
  body: Record<string, unknown> | string,
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
) {
  const json = typeof body !== 'string';
  const response = await fetch(`${slack.url}${method}`, {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json; charset=utf-8' : 'application/x-www-form-urlencoded', ...headers },
    body: json ? JSON.stringify(body) : body,
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('Slack Web API stand-in', () => {
  it('checks the bearer token the way Slack does', async () => {
    expect((await call('auth.test', {}, {})).body).toEqual({ ok: false, error: 'not_authed' });
    expect((await call('auth.test', {}, { authorization: 'Bearer xoxb-wrong' })).body).toEqual({ ok: false, error: 'invalid_auth' });
    expect((await call('auth.test', `token=${TOKEN}`, {})).body).toMatchObject({ ok: true, user_id: slack.botUserId });
    expect((await call('chat.delete', {})).body).toEqual({ ok: false, error: 'unknown_method' });
  });

  it('keeps messages per thread from form and JSON bodies, and answers Slack error codes', async () => {
    const root = slack.addUserMessage({ channel: 'C1', user: 'U1', text: 'root' });
    const posted = await call(
      'chat.postMessage',
      `channel=C1&thread_ts=${root}&text=${encodeURIComponent('a & b')}&metadata=${encodeURIComponent(JSON.stringify({ event_type: 't', event_payload: { key: 'k' } }))}`,
    );
    expect(posted.body).toMatchObject({ ok: true, channel: 'C1' });
    const ts = posted.body.ts as string;
    expect((await call('chat.update', { channel: 'C1', ts, text: 'edited' })).body).toMatchObject({ ok: true, text: 'edited' });
    expect((await call('chat.update', { channel: 'C1', ts: root, text: 'not mine' })).body).toEqual({
      ok: false,
      error: 'cant_update_message',
    });
    expect((await call('chat.update', { channel: 'C1', ts: '1.2', text: 'x' })).body).toEqual({ ok: false, error: 'message_not_found' });
    expect((await call('chat.postMessage', { channel: 'C9', text: 'x' })).body).toEqual({ ok: false, error: 'channel_not_found' });
    expect((await call('chat.postMessage', { channel: 'C1' })).body).toEqual({ ok: false, error: 'no_text' });
    expect((await call('chat.postMessage', { channel: 'C1', text: 'x'.repeat(40_001) })).body).toEqual({
      ok: false,
      error: 'msg_too_long',
    });

    const withoutMetadata = await call('conversations.replies', { channel: 'C1', ts: root });
    expect(
      (withoutMetadata.body.messages as { text: string; metadata?: unknown }[]).map((message) => [message.text, message.metadata]),
    ).toEqual([
      ['root', undefined],
      ['edited', undefined],
    ]);
    const withMetadata = await call('conversations.replies', { channel: 'C1', ts: root, include_all_metadata: true, limit: 1 });
    expect(withMetadata.body).toMatchObject({ has_more: true, messages: [{ text: 'root' }] });
    const next = await call('conversations.replies', {
      channel: 'C1',
      ts: root,
      include_all_metadata: true,
      limit: 1,
      cursor: (withMetadata.body.response_metadata as { next_cursor: string }).next_cursor,
    });
    expect(next.body).toMatchObject({
      has_more: false,
      messages: [{ text: 'edited', metadata: { event_type: 't', event_payload: { key: 'k' } } }],
    });
    expect((await call('conversations.replies', { channel: 'C1', ts: '9.9' })).body).toEqual({ ok: false, error: 'thread_not_found' });
    expect(slack.messages('C1', root).map((message) => message.edits)).toEqual([0, 1]);
  });

  it('answers 429 with Retry-After when told to, then serves again', async () => {
    slack.rateLimit('chat.postMessage', 3, 1);
    const limited = await call('chat.postMessage', { channel: 'C1', text: 'x' });
    expect(limited).toMatchObject({ status: 429, retryAfter: '3', body: { ok: false, error: 'ratelimited' } });
    expect((await call('chat.postMessage', { channel: 'C1', text: 'x' })).status).toBe(200);
  });
});
