import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMessage } from '../../temporal-client/send-message.ts';
import { TURNS_QUERY, type TurnSummary } from '../../core/conversation.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { FEEDBACK_ACTION_ID, type InboundEvent } from '../../events/inbound-event.ts';
import { deliver } from '../../functions/dispatch/deliver.ts';
import { routeEvent } from '../../functions/dispatch/route.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { silentLog } from '../../functions/shared/log.ts';
import { startGeminiServer, type GeminiReply, type GeminiServer } from '../../local/gemini-server.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createLocalDirectoryStore } from '../../store/local-directory-store.ts';
import { createModelActivities } from '../../worker/activities/model.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackAnswerStreams } from '../../worker/replies/slack-stream.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { heldBack, safeStreamText } from '../../worker/replies/stream-safety.ts';
import { appendMessages } from '../../store/transcript-chain.ts';
import { dispatchConfig } from '../dispatch/support.ts';
import { APPROVAL_SECRET, form, slackConfig, slackPost } from '../../testkit/ingress.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const TOKEN = 'xoxb-channel-stream';
const TEAM = 'T0TEAM';
const GENERAL = 'C0GENERAL';
const ANA = 'U0ANA';
const LONG = `${'The rollout finished on all regions without errors. '.repeat(18)}Nothing else to do.`;

describe('streamed text is as safe as a posted answer', () => {
  it('drops broadcasts, mentions and links but http(s) and mailto; holds back what the next chunk could complete', () => {
    const unsafe =
      'Hi <!channel> and <@U0BOSS>, see [docs](https://example.com/a), [run](javascript:alert(1)) and [mail](mailto:a@example.com); @here';
    const safe = safeStreamText(unsafe, false);
    expect(safe).not.toMatch(/<!channel>|<@U0BOSS>|javascript:|(^|\s)@here\b/);
    expect(safe).toContain('[docs](https://example.com/a)');
    expect(safe).toContain('[mail](mailto:a@example.com)');
    expect(safe).toContain('run');
    expect(safeStreamText('ask <@U0BOSS>', true)).toContain('<@U0BOSS>');
    expect(heldBack('see <!chan')).toEqual(['see ', '<!chan']);
    expect(heldBack('see [docs](java')).toEqual(['see ', '[docs](java']);
    expect(heldBack('ping @ch')).toEqual(['ping ', '@ch']);
    expect(heldBack('done [x](https://a.b) now')).toEqual(['done [x](https://a.b) now', '']);
  });

  it('a mention split across chunks reaches Slack as text, never as a mention', async () => {
    const slack = await startSlackApiServer({ tokens: [TOKEN] });
    const model = await startGeminiServer({
      respond: (): GeminiReply => ({
        content: {
          role: 'model',
          parts: [
            {
              text:
                `${'Deploy status: green. '.repeat(8)}Tell <!chan` +
                `nel> and @ev` +
                `eryone, or [click](javascript:void(0)) here. ${'All good. '.repeat(10)}`,
            },
          ],
        },
        stream: { chunkChars: 7, delayMs: 5 },
      }),
    });
    try {
      const store = createLocalDirectoryStore({ directory: join(mkdtempSync(join(tmpdir(), 'safe-stream-')), 'store') });
      const threadTs = slack.addUserMessage({ channel: 'D0ANA', user: ANA, text: 'status?' });
      const specRef = await store.put(compileAgent(defineAgent({ name: 'assistant', instructions: 'Be brief.' })));
      const head = await appendMessages(store, undefined, [{ role: 'user', parts: [{ text: 'status?' }] }]);
      const client = createSlackWebClient({ token: TOKEN, apiUrl: slack.url });
      const activities = createModelActivities({
        apiKey: 'test-key',
        baseUrl: model.url,
        store,
        answerStreams: createSlackAnswerStreams({ client, bufferChars: 20, minAppendIntervalMs: 0 }),
      });
      await new MockActivityEnvironment().run(activities.callModel, {
        specRef,
        head,
        stream: { channel: { kind: 'slack' as const, teamId: TEAM, channelId: 'D0ANA', threadTs }, key: 'c#1' },
      });
      const [streamed] = slack.messages('D0ANA', threadTs).filter((message) => message.botId);
      expect(streamed?.stream).toBeDefined();
      expect(streamed?.text).not.toMatch(/<!channel>|javascript:|(^|\s)@everyone\b/);
      expect(streamed?.text).toContain('click');
    } finally {
      await Promise.all([slack.close(), model.close()]);
    }
  });
});

describe.skipIf(noTemporal)('answers in channels stream to the person who asked; feedback reaches the right turn', () => {
  const temporal = useTemporal();
  let slack: SlackApiServer;
  let model: GeminiServer;
  let taskQueue: string;

  beforeAll(async () => {
    // Slack closes a stream after about five minutes; this one after 300 ms, so a long answer ends through chat.update.
    slack = await startSlackApiServer({ tokens: [TOKEN], streamLimitMs: 300 });
    model = await startGeminiServer({
      respond: () => ({ content: { role: 'model', parts: [{ text: LONG }] }, stream: { chunkChars: 40, delayMs: 30 } }),
    });
    const client = createSlackWebClient({ token: TOKEN, apiUrl: slack.url });
    taskQueue = temporal.taskQueue('channel-stream');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [defineAgent({ name: 'assistant', instructions: 'Be brief.' })],
      modelUrl: model.url,
      replyAdapters: { slack: createSlackReplyAdapter({ client, approvalTokenSecret: APPROVAL_SECRET, statusIntervalMs: 10 }) },
      answerStreams: createSlackAnswerStreams({ client, bufferChars: 100, minAppendIntervalMs: 20, feedbackTokenSecret: APPROVAL_SECRET }),
    });
  });
  afterAll(async () => {
    await slack?.close();
    await model?.close();
  });

  it('turn 2 in a channel thread streams to its asker, is finished by chat.update with feedback buttons, and a click counts on turn 2', async () => {
    const threadTs = slack.addUserMessage({ channel: GENERAL, user: 'U0BEN', text: 'how did the rollout go?' });
    const conversationId = `slack:${TEAM}:${GENERAL}:${threadTs}`;
    const handle = temporal.client.workflow.getHandle(conversationId);
    const ask = (id: string, user: string, text: string) =>
      sendMessage(temporal.client, {
        conversationId,
        taskQueue,
        start: { conversationId, agent: 'assistant', channel: { kind: 'slack', teamId: TEAM, channelId: GENERAL, threadTs } },
        message: { id, text, user: { id: user }, receivedAt: new Date().toISOString() },
      });
    await ask(`m1-${threadTs}`, 'U0BEN', 'how did the rollout go?');
    await expect.poll(async () => (await handle.query<TurnSummary[]>(TURNS_QUERY))[0]?.status, { timeout: 20_000 }).toBe('answered');
    await ask(`m2-${threadTs}`, ANA, 'and in Europe?');
    await expect.poll(async () => (await handle.query<TurnSummary[]>(TURNS_QUERY))[1]?.status, { timeout: 20_000 }).toBe('answered');

    const answers = slack.messages(GENERAL, threadTs).filter((message) => message.stream);
    expect(answers.map((message) => message.stream?.recipient)).toEqual([
      { user: 'U0BEN', team: TEAM },
      { user: ANA, team: TEAM },
    ]);
    const second = answers[1]!;
    expect(second.edits).toBeGreaterThan(0);
    expect(slack.calls.some((call) => call.method === 'chat.update' && call.args.ts === second.ts && call.outcome === 'ok')).toBe(true);
    expect(second.blocks?.[0]).toMatchObject({ type: 'markdown', text: LONG });
    const feedback = second.blocks?.[1] as { type: string; elements: { action_id: string; negative_button: { value: string } }[] };
    expect(feedback.type).toBe('context_actions');
    // Nothing posted the answers again beside their streams (the status messages of an app without sessions aside).
    expect(
      slack
        .messages(GENERAL, threadTs)
        .filter((message) => message.botId && !message.stream && message.metadata?.event_payload.role !== 'status'),
    ).toEqual([]);

    const queued: InboundEvent[] = [];
    const edge = createSlackApp({
      config: slackConfig('https://sqs.eu-west-1.amazonaws.com/123456789012/e.fifo'),
      queue: { send: async (event) => void queued.push(event) },
      log: silentLog,
    });
    const click = (value: string) => ({
      type: 'block_actions',
      user: { id: ANA, team_id: TEAM },
      team: { id: TEAM },
      channel: { id: GENERAL },
      message: { ts: second.ts, thread_ts: threadTs },
      actions: [{ type: 'feedback_buttons', action_id: FEEDBACK_ACTION_ID, value }],
    });
    expect(
      (
        await edge.request(
          '/slack/interactivity',
          slackPost(form({ payload: JSON.stringify(click(feedback.elements[0]!.negative_button.value)) }), { form: true }),
        )
      ).status,
    ).toBe(200);
    expect(
      await deliver(temporal.client, routeEvent(queued[0]!, dispatchConfig(taskQueue)), { taskQueue, approvalSecret: APPROVAL_SECRET }),
    ).toMatchObject({ outcome: 'delivered', update: 'feedback' });
    const turns = await handle.query<TurnSummary[]>(TURNS_QUERY);
    expect(turns[1]?.feedback).toEqual({ positive: 0, negative: 1, by: { [ANA]: 'negative' } });
    expect(turns[0]?.feedback).toBeUndefined();
  });
});
