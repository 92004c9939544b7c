import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMessage } from '../../temporal-client/send-message.ts';
import { TURNS_QUERY, type TurnSummary } from '../../core/conversation.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { FEEDBACK_ACTION_ID, type InboundEvent } from '../../events/inbound-event.ts';
import { deliver } from '../../functions/dispatch/deliver.ts';
import { routeEvent } from '../../functions/dispatch/route.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { silentLog } from '../../functions/shared/log.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackAnswerStreams } from '../../worker/replies/slack-stream.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { dispatchConfig } from '../dispatch/support.ts';
import { APPROVAL_SECRET, form, slackConfig, slackPost } from '../../testkit/ingress.ts';
import { startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const TOKEN = 'xoxb-dm-token';
const TEAM = 'T0TEAM';
const DM = 'D0ANA';
const ANA = 'U0ANA';
const ANSWER = `${'The launch is on Tuesday, after the review. '.repeat(20)}Good luck.`;

describe.skipIf(noTemporal)('a turn in an assistant thread, through Temporal', () => {
  const temporal = useTemporal();
  let slack: SlackApiServer;
  let model: GeminiServer;
  let taskQueue: string;

  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [TOKEN] });
    model = await startScriptedModel(() => ({
      content: { role: 'model', parts: [{ text: ANSWER }] },
      stream: { chunkChars: 30, delayMs: 10 },
    }));
    const client = createSlackWebClient({ token: TOKEN, apiUrl: slack.url });
    taskQueue = temporal.taskQueue('dm-turn');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [defineAgent({ name: 'assistant', instructions: 'Be brief.' })],
      modelUrl: model.url,
      replyAdapters: { slack: createSlackReplyAdapter({ client, approvalTokenSecret: APPROVAL_SECRET, statusIntervalMs: 10 }) },
      answerStreams: createSlackAnswerStreams({ client, bufferChars: 100, minAppendIntervalMs: 50, feedbackTokenSecret: APPROVAL_SECRET }),
    });
  });
  afterAll(async () => {
    await slack?.close();
    await model?.close();
  });

  it('shows a status, streams the answer once, clears the status, and records a feedback click on the turn', async () => {
    const threadTs = slack.addUserMessage({ channel: DM, user: ANA, text: 'when is the launch?' });
    const conversationId = `slack:${TEAM}:${DM}:${threadTs}`;
    await sendMessage(temporal.client, {
      conversationId,
      taskQueue,
      start: { conversationId, agent: 'assistant', channel: { kind: 'slack', teamId: TEAM, channelId: DM, threadTs } },
      message: {
        id: `slack-message:${TEAM}:${DM}:${threadTs}`,
        text: 'when is the launch?',
        user: { id: ANA },
        receivedAt: new Date().toISOString(),
      },
    });
    const handle = temporal.client.workflow.getHandle(conversationId);
    await expect.poll(async () => (await handle.query<TurnSummary[]>(TURNS_QUERY))[0]?.status, { timeout: 20_000 }).toBe('answered');

    const bot = slack.messages(DM, threadTs).filter((message) => message.botId);
    expect(bot).toHaveLength(1);
    expect(bot[0]?.text).toBe(ANSWER);
    expect(bot[0]?.stream?.stopped).toBe(true);
    expect(slack.calls.filter((call) => call.method === 'chat.postMessage' && call.args.channel === DM)).toEqual([]);
    const statuses = slack.assistantThread(DM, threadTs)?.statuses.map((entry) => entry.status);
    expect(statuses?.[0]).toBe('is thinking…');
    await expect.poll(() => slack.currentStatus(DM, threadTs)).toBe('');

    // The click, as Slack sends it, through the edge and the dispatcher's routing.
    const buttons = (bot[0]?.blocks?.[0] as { elements: { action_id: string; positive_button: { value: string } }[] }).elements[0]!;
    expect(buttons.action_id).toBe(FEEDBACK_ACTION_ID);
    const queued: InboundEvent[] = [];
    const edge = createSlackApp({
      config: slackConfig('https://sqs.eu-west-1.amazonaws.com/123456789012/e.fifo'),
      queue: { send: async (event) => void queued.push(event) },
      log: silentLog,
    });
    const payload = {
      type: 'block_actions',
      user: { id: ANA, team_id: TEAM },
      team: { id: TEAM },
      channel: { id: DM },
      message: { ts: bot[0]!.ts, thread_ts: threadTs },
      actions: [{ type: 'feedback_buttons', action_id: FEEDBACK_ACTION_ID, value: buttons.positive_button.value }],
    };
    const response = await edge.request('/slack/interactivity', slackPost(form({ payload: JSON.stringify(payload) }), { form: true }));
    expect(response.status).toBe(200);
    expect(queued).toHaveLength(1);
    const action = routeEvent(queued[0]!, dispatchConfig(taskQueue));
    expect(await deliver(temporal.client, action, { taskQueue, approvalSecret: APPROVAL_SECRET })).toMatchObject({
      outcome: 'delivered',
      update: 'feedback',
    });

    const [turn] = await handle.query<TurnSummary[]>(TURNS_QUERY);
    expect(turn?.feedback).toEqual({ positive: 1, negative: 0, by: { [ANA]: 'positive' } });
  });

  it('the channel the person has open reaches the next turn, once', async () => {
    const threadTs = slack.addUserMessage({ channel: DM, user: ANA, text: 'summarise it' });
    const conversationId = `slack:${TEAM}:${DM}:${threadTs}`;
    const queued: InboundEvent[] = [];
    const edge = createSlackApp({
      config: slackConfig('https://sqs.eu-west-1.amazonaws.com/123456789012/e.fifo'),
      queue: { send: async (event) => void queued.push(event) },
      log: silentLog,
    });
    const changed = {
      type: 'event_callback',
      team_id: TEAM,
      event_id: 'Ev0CONTEXT1',
      event: {
        type: 'assistant_thread_context_changed',
        assistant_thread: { user_id: ANA, channel_id: DM, thread_ts: threadTs, context: { channel_id: 'C0LAUNCH', team_id: TEAM } },
      },
    };
    expect((await edge.request('/slack/events', slackPost(JSON.stringify(changed)))).status).toBe(200);
    // The context comes first: it starts the conversation, which waits for a message.
    expect(
      await deliver(temporal.client, routeEvent(queued[0]!, dispatchConfig(taskQueue)), { taskQueue, approvalSecret: APPROVAL_SECRET }),
    ).toMatchObject({ outcome: 'delivered', update: 'context' });

    const ask = async (id: string, text: string) =>
      sendMessage(temporal.client, {
        conversationId,
        taskQueue,
        start: { conversationId, agent: 'assistant', channel: { kind: 'slack', teamId: TEAM, channelId: DM, threadTs } },
        message: { id, text, user: { id: ANA }, receivedAt: new Date().toISOString() },
      });
    const handle = temporal.client.workflow.getHandle(conversationId);
    const before = model.requests.length;
    await ask(`m1-${threadTs}`, 'summarise it');
    await expect.poll(async () => (await handle.query<TurnSummary[]>(TURNS_QUERY))[0]?.status, { timeout: 20_000 }).toBe('answered');
    await ask(`m2-${threadTs}`, 'and the risks?');
    await expect.poll(async () => (await handle.query<TurnSummary[]>(TURNS_QUERY))[1]?.status, { timeout: 20_000 }).toBe('answered');

    const lastUserText = (index: number) => {
      const contents = model.requests[index]!.body.contents;
      return contents
        .filter((content) => content.role === 'user')
        .at(-1)!
        .parts.map((part) => part.text)
        .join('');
    };
    expect(lastUserText(before)).toBe(
      '(Context: the person has the Slack channel <#C0LAUNCH> open beside this conversation.)\n\nsummarise it',
    );
    expect(lastUserText(before + 1)).toBe('and the risks?');
  });
});
