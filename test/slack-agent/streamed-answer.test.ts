import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyChannel } from '../../core/conversation.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import type { ModelStepInput, ModelStepResult } from '../../core/contracts/model.ts';
import { startGeminiServer, type GeminiReply, type GeminiServer, type StreamPacing } from '../../local/gemini-server.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createLocalDirectoryStore } from '../../store/local-directory-store.ts';
import { createModelActivities } from '../../worker/activities/model.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackAnswerStreams } from '../../worker/replies/slack-stream.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { appendMessages } from '../../store/transcript-chain.ts';

const TOKEN = 'xoxb-stream-token';
const DM = 'D0ANA';
const ANSWER = `${'The launch moves to Tuesday. '.repeat(30)}That is all.`;

let slack: SlackApiServer;
let shortStreams: SlackApiServer;
let model: GeminiServer;
/** What the model answers next. */
let next: () => GeminiReply;
const store = createLocalDirectoryStore({ directory: join(mkdtempSync(join(tmpdir(), 'stream-')), 'store') });

beforeAll(async () => {
  slack = await startSlackApiServer({ tokens: [TOKEN] });
  // Slack closes a stream after about five minutes; this one after 400 ms.
  shortStreams = await startSlackApiServer({ tokens: [TOKEN], streamLimitMs: 400 });
  model = await startGeminiServer({ respond: () => next() });
});
afterAll(async () => {
  await Promise.all([slack?.close(), shortStreams?.close(), model?.close()]);
});

function answer(text: string, stream: StreamPacing): GeminiReply {
  return { content: { role: 'model', parts: [{ text }] }, stream };
}

async function stepInput(server: SlackApiServer): Promise<{ input: ModelStepInput; channel: ReplyChannel & { kind: 'slack' } }> {
  const threadTs = server.addUserMessage({ channel: DM, user: 'U0ANA', text: 'when is the launch?' });
  const channel = { kind: 'slack' as const, teamId: 'T0TEAM', channelId: DM, threadTs };
  const specRef = await store.put(compileAgent(defineAgent({ name: 'assistant', instructions: 'Be brief.' })));
  const head = await appendMessages(store, undefined, [{ role: 'user', parts: [{ text: 'when is the launch?' }] }]);
  return { input: { specRef, head, stream: { channel, key: 'conversation#1' } }, channel };
}

function activities(server: SlackApiServer) {
  const client = createSlackWebClient({ token: TOKEN, apiUrl: server.url });
  return {
    model: createModelActivities({
      apiKey: 'test-key',
      baseUrl: model.url,
      store,
      answerStreams: createSlackAnswerStreams({ client, bufferChars: 100, minAppendIntervalMs: 50 }),
    }),
    replies: createSlackReplyAdapter({ client, approvalTokenSecret: 'secret' }),
  };
}

const botMessages = (server: SlackApiServer, threadTs: string) => server.messages(DM, threadTs).filter((message) => message.botId);

describe('answers streamed into an assistant thread', () => {
  it('arrive as one stream, in chunks within the append limits, marked; the answer step then posts nothing', async () => {
    const { model: modelActivities, replies } = activities(slack);
    const { input, channel } = await stepInput(slack);
    next = () => answer(ANSWER, { chunkChars: 40, delayMs: 5 });
    const since = Date.now();

    const result = (await new MockActivityEnvironment().run(modelActivities.callModel, input)) as ModelStepResult;
    expect(result.text).toBe(ANSWER);
    await replies.answer(channel, 'conversation#1', result.text);

    const [message, ...others] = botMessages(slack, channel.threadTs);
    expect(others).toEqual([]);
    expect(message?.text).toBe(ANSWER);
    expect(message?.stream?.stopped).toBe(true);
    expect(message?.metadata?.event_payload).toMatchObject({ key: 'conversation#1', role: 'stream' });
    const calls = slack.calls.filter((call) => call.at >= since && call.method.startsWith('chat.'));
    expect(calls.map((call) => call.method)).toEqual([
      'chat.startStream',
      ...calls.slice(1, -1).map(() => 'chat.appendStream'),
      'chat.stopStream',
    ]);
    // The stream starts with the model's first chunk, not a full buffer: a person sees the first words at once.
    expect(String(calls[0]?.args.markdown_text).length).toBeLessThanOrEqual(40);
    // Then buffered: far fewer calls than the model's 40-character chunks, none refused.
    expect(calls.length).toBeLessThan(ANSWER.length / 100 + 3);
    expect(calls.every((call) => call.outcome === 'ok')).toBe(true);
  });

  it('arrive once even when the attempt dies mid-stream: the retry finishes the same message with the whole answer', async () => {
    const { model: modelActivities, replies } = activities(slack);
    const { input, channel } = await stepInput(slack);

    // The first attempt: the model stalls after a few chunks and the worker goes away.
    next = () => answer(ANSWER, { chunkChars: 40, delayMs: 5, hangAfterChunks: 8 });
    const first = new MockActivityEnvironment({ attempt: 1 });
    let lastBeat: unknown;
    first.on('heartbeat', (details: unknown) => (lastBeat = details ?? lastBeat));
    const dying = first.run(modelActivities.callModel, input).catch((error: unknown) => error);
    await expect.poll(() => botMessages(slack, channel.threadTs)[0]?.text.length ?? 0, { timeout: 5000 }).toBeGreaterThan(100);
    await expect.poll(() => lastBeat, { timeout: 5000 }).toMatchObject({ ts: botMessages(slack, channel.threadTs)[0]?.ts });
    first.cancel();
    await dying;

    // The retry sees the message in its heartbeat details: no second stream.
    next = () => answer(ANSWER, { chunkChars: 40, delayMs: 1 });
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: lastBeat });
    const result = (await retry.run(modelActivities.callModel, input)) as ModelStepResult;
    await replies.answer(channel, 'conversation#1', result.text);

    const messages = botMessages(slack, channel.threadTs);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toBe(ANSWER);
    expect(messages[0]?.metadata?.event_payload).toMatchObject({ key: 'conversation#1', role: 'stream' });
    expect(slack.calls.filter((call) => call.method === 'chat.startStream' && call.args.thread_ts === channel.threadTs)).toHaveLength(1);
  });

  it('that outlive Slack’s stream limit still end with the whole answer', async () => {
    const { model: modelActivities, replies } = activities(shortStreams);
    const { input, channel } = await stepInput(shortStreams);
    next = () => answer(ANSWER, { chunkChars: 40, delayMs: 40 });

    const result = (await new MockActivityEnvironment().run(modelActivities.callModel, input)) as ModelStepResult;
    await replies.answer(channel, 'conversation#1', result.text);

    const messages = botMessages(shortStreams, channel.threadTs);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toBe(ANSWER);
    expect(messages[0]?.metadata?.event_payload).toMatchObject({ role: 'stream' });
    expect(shortStreams.calls.some((call) => call.method === 'chat.update' && call.outcome === 'ok')).toBe(true);
  });

  it('a short answer streams too: one message, marked, and the answer step posts nothing more', async () => {
    const { model: modelActivities, replies } = activities(slack);
    const { input, channel } = await stepInput(slack);
    next = () => answer('Tuesday.', { chunkChars: 4 });
    const result = (await new MockActivityEnvironment().run(modelActivities.callModel, input)) as ModelStepResult;
    await replies.answer(channel, 'conversation#1', result.text);
    const messages = botMessages(slack, channel.threadTs);
    expect(messages.map((message) => message.text)).toEqual(['Tuesday.']);
    expect(messages[0]?.stream?.stopped).toBe(true);
    expect(messages[0]?.metadata?.event_payload).toMatchObject({ key: 'conversation#1', role: 'stream' });
  });

  it('text the model writes before calling a tool stays as a note, not as the answer', async () => {
    const { model: modelActivities } = activities(slack);
    const { input, channel } = await stepInput(slack);
    next = () => ({
      content: { role: 'model', parts: [{ text: 'Let me check the calendar.' }, { functionCall: { name: 'calendar', args: {} } }] },
      stream: { chunkChars: 8 },
    });
    await new MockActivityEnvironment().run(modelActivities.callModel, input);
    const messages = botMessages(slack, channel.threadTs);
    expect(messages.map((message) => message.text)).toEqual(['Let me check the calendar.']);
    expect(messages[0]?.metadata?.event_payload).toMatchObject({ key: 'conversation#1', role: 'note' });
  });
});
