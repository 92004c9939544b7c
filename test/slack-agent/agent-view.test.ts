import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TURNS_QUERY, type TurnSummary } from '../../core/conversation.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import type { InboundEvent } from '../../events/inbound-event.ts';
import { deliver } from '../../functions/dispatch/deliver.ts';
import { routeEvent } from '../../functions/dispatch/route.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { createSuggestedPromptsSetter } from '../../functions/slack/slack-post.ts';
import { silentLog } from '../../functions/shared/log.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { dispatchConfig } from '../dispatch/support.ts';
import { APPROVAL_SECRET, slackConfig, slackPost } from '../../testkit/ingress.ts';
import { startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const TOKEN = 'xoxb-agent-view';
const TEAM = 'T0TEAM';
const DM = 'D0ANA';
const ANA = 'U0ANA';
const PROMPTS = [{ title: 'Plan my week', message: 'Plan my week from my calendar.' }];

/** An Events API envelope as Slack sends it. */
function envelope(eventId: string, event: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: 'event_callback', team_id: TEAM, api_app_id: 'A0APP', event_id: eventId, event_time: 1, event, ...extra });
}

describe('agent_view: the DM opened, and what the person has open, at the edge', () => {
  let slack: SlackApiServer;
  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [TOKEN] });
  });
  afterAll(() => slack?.close());

  function edge(queued: InboundEvent[]) {
    return createSlackApp({
      config: slackConfig('https://sqs.eu-west-1.amazonaws.com/123456789012/e.fifo', { SLACK_SUGGESTED_PROMPTS: PROMPTS }),
      queue: { send: async (event) => void queued.push(event) },
      setSuggestedPrompts: createSuggestedPromptsSetter({ token: TOKEN, apiUrl: slack.url }),
      log: silentLog,
    });
  }

  it('a DM opened on the messages tab sets the suggested prompts at the top of the DM; the home tab does not', async () => {
    const queued: InboundEvent[] = [];
    const home = await edge(queued).request(
      '/slack/events',
      slackPost(envelope('Ev1', { type: 'app_home_opened', user: ANA, channel: 'D0HOME', tab: 'home', event_ts: '1.1' })),
    );
    expect(home.headers.get('x-ingress-outcome')).toMatch(/^dropped: app home opened on tab home/);
    expect(slack.assistantThread('D0HOME', '')).toBeUndefined();

    const opened = await edge(queued).request(
      '/slack/events',
      slackPost(envelope('Ev2', { type: 'app_home_opened', user: ANA, channel: DM, tab: 'messages', event_ts: '1.2' })),
    );
    expect(opened.status).toBe(200);
    expect(opened.headers.get('x-ingress-outcome')).toBe('prompts-set');
    expect(slack.assistantThread(DM, '')?.prompts).toEqual(PROMPTS);
    expect(queued).toEqual([]);
  });

  it('app_context_changed keeps channels, canvases, lists and messages, per person; a native stop click becomes a stop that answers a refusal', async () => {
    const queued: InboundEvent[] = [];
    const entities = [
      { type: 'slack#/types/channel_id', value: 'C0LAUNCH', team_id: TEAM },
      { type: 'slack#/types/canvas_id', value: 'F0CANVAS' },
      { type: 'slack#/types/list_id', value: 'F0LIST' },
      { type: 'slack#/types/message_context', value: { channel_id: 'C0LAUNCH', message_ts: '1712345678.000100' } },
      { type: 'slack#/types/thread_ts', value: '1712345678.000100' },
    ];
    const changed = envelope(
      'Ev3',
      { type: 'app_context_changed', context: { entities } },
      { authorizations: [{ team_id: TEAM, user_id: ANA, is_bot: false }] },
    );
    expect((await edge(queued).request('/slack/events', slackPost(changed))).status).toBe(200);
    expect(queued[0]).toMatchObject({
      kind: 'context',
      conversationId: `slack-view:${TEAM}:${ANA}`,
      user: { id: ANA },
      context: {
        entities: [
          { type: 'channel', channelId: 'C0LAUNCH' },
          { type: 'canvas', canvasId: 'F0CANVAS' },
          { type: 'list', listId: 'F0LIST' },
          { type: 'message', channelId: 'C0LAUNCH', messageTs: '1712345678.000100' },
        ],
      },
    });
    const stop = envelope('Ev4', {
      type: 'agent_session_stopped',
      channel: DM,
      thread_ts: '1712345678.000200',
      user: ANA,
      event_ts: '1712345679.000100',
      streaming_message_ts: ['1712345678.000300'],
    });
    expect((await edge(queued).request('/slack/events', slackPost(stop))).status).toBe(200);
    expect(queued[1]).toMatchObject({
      kind: 'stop',
      conversationId: `slack:${TEAM}:${DM}:1712345678.000200`,
      user: { id: ANA },
      nativeStop: { streamingMessageTs: ['1712345678.000300'] },
    });
    expect(routeEvent(queued[1]!, dispatchConfig('q'))).toEqual({
      type: 'stop',
      conversationId: `slack:${TEAM}:${DM}:1712345678.000200`,
      updateId: queued[1]!.id,
      request: { by: ANA, answerRefusal: true },
    });
  });

  it('a new app manifest asking for assistant_view is refused, as Slack refuses it', async () => {
    const create = (manifest: unknown) =>
      fetch(`${slack.url}apps.manifest.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ manifest: JSON.stringify(manifest) }),
      }).then((response) => response.json() as Promise<Record<string, unknown>>);
    const refused = await create({ display_information: { name: 'Old' }, features: { assistant_view: { assistant_description: 'x' } } });
    expect(refused).toMatchObject({ ok: false, error: 'invalid_manifest', errors: [{ pointer: '/features/assistant_view' }] });
    expect(
      await create({ display_information: { name: 'New' }, features: { agent_view: { agent_description: 'Answers and asks first.' } } }),
    ).toMatchObject({ ok: true });
  });
});

describe.skipIf(noTemporal)('agent_view: what the person has open reaches their next turn, through Temporal', () => {
  const temporal = useTemporal();
  let slack: SlackApiServer;
  let model: GeminiServer;
  let taskQueue: string;

  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [TOKEN] });
    model = await startScriptedModel(() => ({ content: { role: 'model', parts: [{ text: 'Done.' }] } }));
    const client = createSlackWebClient({ token: TOKEN, apiUrl: slack.url });
    taskQueue = temporal.taskQueue('agent-view');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [defineAgent({ name: 'assistant', instructions: 'Be brief.' })],
      modelUrl: model.url,
      replyAdapters: { slack: createSlackReplyAdapter({ client, approvalTokenSecret: APPROVAL_SECRET, statusIntervalMs: 10 }) },
    });
  });
  afterAll(async () => {
    await slack?.close();
    await model?.close();
  });

  it('a context change, then a DM message without a thread: the new thread root is told once; its next turn is not', async () => {
    const queued: InboundEvent[] = [];
    const edge = createSlackApp({
      config: slackConfig('https://sqs.eu-west-1.amazonaws.com/123456789012/e.fifo'),
      queue: { send: async (event) => void queued.push(event) },
      log: silentLog,
    });
    const send = async (body: string) => {
      expect((await edge.request('/slack/events', slackPost(body))).status).toBe(200);
      return deliver(temporal.client, routeEvent(queued.at(-1)!, dispatchConfig(taskQueue)), {
        taskQueue,
        approvalSecret: APPROVAL_SECRET,
      });
    };
    const entities = [
      { type: 'slack#/types/canvas_id', value: 'F0PLAN' },
      { type: 'slack#/types/channel_id', value: 'C0LAUNCH' },
    ];
    expect(await send(envelope('Ev10', { type: 'app_context_changed', user: ANA, context: { entities } }))).toMatchObject({
      outcome: 'delivered',
      update: 'setViewContext',
    });

    const rootTs = slack.addUserMessage({ channel: DM, user: ANA, text: 'summarise it' });
    expect(
      await send(envelope('Ev11', { type: 'message', channel_type: 'im', channel: DM, user: ANA, ts: rootTs, text: 'summarise it' })),
    ).toMatchObject({ outcome: 'delivered' });
    const conversationId = `slack:${TEAM}:${DM}:${rootTs}`;
    const handle = temporal.client.workflow.getHandle(conversationId);
    await expect.poll(async () => (await handle.query<TurnSummary[]>(TURNS_QUERY))[0]?.status, { timeout: 20_000 }).toBe('answered');

    const replyTs = slack.addUserMessage({ channel: DM, user: ANA, text: 'and the risks?', threadTs: rootTs });
    await send(
      envelope('Ev12', {
        type: 'message',
        channel_type: 'im',
        channel: DM,
        user: ANA,
        ts: replyTs,
        thread_ts: rootTs,
        text: 'and the risks?',
      }),
    );
    await expect.poll(async () => (await handle.query<TurnSummary[]>(TURNS_QUERY))[1]?.status, { timeout: 20_000 }).toBe('answered');

    const userTexts = model.requests.map((request) =>
      request.body.contents
        .filter((content) => content.role === 'user')
        .at(-1)!
        .parts.map((part) => part.text)
        .join(''),
    );
    expect(userTexts[0]).toBe(
      '(Context: the person has open in Slack, most relevant first: the canvas F0PLAN; the channel <#C0LAUNCH>.)\n\nsummarise it',
    );
    expect(userTexts.at(-1)).toBe('and the risks?');
  });
});
