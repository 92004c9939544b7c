import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMessage } from '../../temporal-client/send-message.ts';
import { ambientDeliveryKey, NOTHING_NEW } from '../../core/ambient.ts';
import type { TurnSummary } from '../../core/conversation.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { slackConversationId } from '../../events/inbound-event.ts';
import { startGeminiServer, type GeminiServer } from '../../local/gemini-server.ts';
import { offlineModel } from '../../local/offline-model.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createAmbientMemoryStore, type AmbientMemoryStore } from '../../store/ambient-memory.ts';
import { createConversationIndex, type ConversationIndex } from '../../store/conversation-index.ts';
import { createLocalRecordFiles } from '../../store/record-files.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { REPLY_EVENT_TYPE } from '../../worker/replies/slack-thread.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { incoming } from '../workflow/conversation-helpers.ts';
import {
  alert,
  exampleAgents,
  handbookCopy,
  runAmbient,
  startAlertsStandIn,
  textsOf,
  triggerOf,
  type Alert,
  type StandIn,
} from './runs-support.ts';

const TOKEN = 'xoxb-ambient-test';
const DIGEST_CHANNEL = 'C0DIGEST';
const WATCH_CHANNEL = 'C0WATCH';
const PLAIN_CHANNEL = 'C0PLAIN';

/** An ambient agent without a check: only the model decides whether anything is new. */
const plain = defineAgent({
  name: 'ambient-plain',
  instructions: 'Report what is new.',
  triggers: [
    { id: 'hourly', every: '1 hour', prompt: 'Anything new in the release notes?', deliver: { kind: 'slack', channel: PLAIN_CHANNEL } },
  ],
});

describe.skipIf(noTemporal)('ambient runs on the dev server', () => {
  const temporal = useTemporal();
  let slack: SlackApiServer;
  let model: GeminiServer;
  let weather: StandIn;
  const alerts: Record<string, Alert[]> = { CA: [alert('one', 'Red Flag Warning for the Bay Area')] };
  let docs: string;
  let memory: AmbientMemoryStore;
  let index: ConversationIndex;
  let taskQueue: string;
  let registry: ReturnType<typeof exampleAgents>;

  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [TOKEN] });
    model = await startGeminiServer({ respond: offlineModel });
    weather = await startAlertsStandIn(alerts);
    docs = handbookCopy();
    registry = exampleAgents({ docsDirectory: docs, weatherBaseUrl: weather.url, handbookDigestChannel: DIGEST_CHANNEL });
    memory = createAmbientMemoryStore(createLocalRecordFiles({ directory: mkdtempSync(join(tmpdir(), 'ambient-memory-')) }));
    index = createConversationIndex(createLocalRecordFiles({ directory: mkdtempSync(join(tmpdir(), 'ambient-index-')) }));
    taskQueue = temporal.taskQueue('ambient');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [...registry.agents.values(), plain],
      modelUrl: model.url,
      replyAdapters: {
        slack: createSlackReplyAdapter({
          client: createSlackWebClient({ token: TOKEN, apiUrl: slack.url }),
          approvalTokenSecret: 'ambient-approval-secret',
        }),
      },
      ambientMemory: memory,
      conversationIndex: index,
    });
  });
  afterAll(async () => {
    await slack?.close();
    await model?.close();
    await weather?.close();
  });

  const digest = () => ({ agent: 'handbook-digest', trigger: registry.get('handbook-digest').triggers[0]! });
  const ambientRequests = (trigger: string) =>
    model.requests.filter((request) => textsOf(request, 'user').some((text) => text.startsWith(`[Scheduled run of trigger "${trigger}"`)));

  it('posts the handbook digest as a new thread; an unchanged handbook is quiet by the check; a change is posted with the last run in the prompt', async () => {
    const first = await runAmbient(temporal.client, taskQueue, digest());
    expect(first.result).toMatchObject({ outcome: 'posted', posted: { kind: 'slack', channel: DIGEST_CHANNEL } });
    const posts = slack.messages(DIGEST_CHANNEL);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.ts).toBe((first.result.posted as { ts: string }).ts);
    // mrkdwn, as conversation answers are: **bold** became *bold*.
    expect(posts[0]!.text).toMatch(/^\*First digest: the handbook has 3 files\.\*/);
    expect(posts[0]!.text).toContain('deploys.md');
    expect(posts[0]!.metadata).toMatchObject({
      event_type: REPLY_EVENT_TYPE,
      event_payload: { key: ambientDeliveryKey(first.workflowId), role: 'answer' },
    });
    expect(first.result.summary!.length).toBeLessThanOrEqual(300);

    const modelCalls = model.requests.length;
    const second = await runAmbient(temporal.client, taskQueue, digest());
    expect(second.result).toMatchObject({ outcome: 'quiet', cursor: first.result.cursor });
    expect(second.result.summary).toMatch(/^check: no handbook file changed since the last run \(3 files\)/);
    expect(slack.messages(DIGEST_CHANNEL)).toHaveLength(1);
    expect(model.requests.length).toBe(modelCalls);
    const quietHistory = await summariseHistory(temporal.client.workflow.getHandle(second.workflowId));
    expect(quietHistory.scheduled).toEqual(['resolveAgent', 'ambient:begin', 'ambient:check', 'ambient:remember']);
    expect(await memory.load('handbook-digest', 'daily')).toMatchObject({
      lastOutcome: 'quiet',
      lastSummary: first.result.summary,
      runs: 2,
      cursor: first.result.cursor,
    });

    appendFileSync(join(docs, 'deploys.md'), '\n## Friday deploys\nFrom now on, small fixes may deploy on Fridays until noon.\n');
    const third = await runAmbient(temporal.client, taskQueue, digest());
    expect(third.result.outcome).toBe('posted');
    expect(third.result.cursor).not.toBe(first.result.cursor);
    const [prompt] = textsOf(ambientRequests('daily').at(-1)!, 'user');
    expect(prompt).toContain(`you reported: ${first.result.summary}`);
    expect(prompt).toMatch(/Last run at \S+ \(quiet: check: no handbook file changed/);
    expect(prompt).toContain('- changed: deploys.md "Deploying"');
    const latest = slack.messages(DIGEST_CHANNEL);
    expect(latest).toHaveLength(2);
    expect(latest[1]!.text).toContain('changed: deploys.md');
    expect(latest[1]!.text).not.toContain('on-call.md');
  });

  it('is quiet when the model answers the marker: nothing posted, quiet recorded in memory', async () => {
    const trigger = plain.triggers[0]!;
    const run = await runAmbient(temporal.client, taskQueue, { agent: plain.name, trigger });
    expect(run.result).toEqual({ outcome: 'quiet', summary: 'the model found nothing new' });
    const [prompt] = textsOf(ambientRequests('hourly').at(-1)!, 'user');
    expect(prompt).toContain(`answer exactly ${NOTHING_NEW}`);
    expect(prompt).toContain('This is the first run of this trigger.');
    expect(slack.messages(PLAIN_CHANNEL)).toEqual([]);
    expect(await memory.load(plain.name, trigger.id)).toMatchObject({
      lastOutcome: 'quiet',
      lastReason: 'the model found nothing new',
      runs: 1,
    });
    const history = await summariseHistory(temporal.client.workflow.getHandle(run.workflowId));
    expect(history.scheduled).not.toContain('ambient:deliver');
  });

  it('speaks only when a new weather alert appears, and names only the new one', async () => {
    const trigger = triggerOf(registry.get('weather-watch').triggers[0]!, { kind: 'slack', channel: WATCH_CHANNEL });
    const input = { agent: 'weather-watch', trigger };
    const first = await runAmbient(temporal.client, taskQueue, input);
    expect(first.result.outcome).toBe('posted');
    expect(slack.messages(WATCH_CHANNEL).map((message) => message.text)).toEqual([
      expect.stringContaining('Red Flag Warning for the Bay Area'),
    ]);

    expect((await runAmbient(temporal.client, taskQueue, input)).result).toMatchObject({
      outcome: 'quiet',
      summary: expect.stringContaining('no new weather alert for CA (1 active'),
    });

    alerts.CA!.push(alert('two', 'Wind Advisory for the Delta'));
    const third = await runAmbient(temporal.client, taskQueue, input);
    expect(third.result.outcome).toBe('posted');
    const texts = slack.messages(WATCH_CHANNEL).map((message) => message.text);
    expect(texts).toHaveLength(2);
    expect(texts[1]).toContain('Wind Advisory for the Delta');
    expect(texts[1]).not.toContain('Red Flag Warning for the Bay Area');
  });

  it('a reply in the posted thread continues a conversation whose transcript starts with the ambient run', async () => {
    appendFileSync(join(docs, 'on-call.md'), '\n## Pager rotation\nThe rotation now changes on Tuesdays.\n');
    const posted = await runAmbient(temporal.client, taskQueue, digest());
    const ts = (posted.result.posted as { ts: string }).ts;
    const post = slack.messages(DIGEST_CHANNEL).find((message) => message.ts === ts)!;
    const teamId = 'T0LOCAL';
    const conversationId = slackConversationId(teamId, DIGEST_CHANNEL, ts);
    const saved = await index.load(conversationId);
    expect(saved).toMatchObject({ conversationId, turns: 0 });

    const question = incoming('What does the pager rotation section say?', { user: { id: 'U0READER' } });
    await sendMessage(temporal.client, {
      conversationId,
      taskQueue,
      message: question,
      start: {
        agent: 'handbook-digest',
        channel: { kind: 'slack', teamId, channelId: DIGEST_CHANNEL, threadTs: ts },
        options: { idleTimeout: '2 seconds' },
      },
    });
    const handle = temporal.client.workflow.getHandle(conversationId);
    await expect
      .poll(async () => (await handle.query<TurnSummary[]>('turns')).find((turn) => turn.turn === 1)?.status, { timeout: 20_000 })
      .toBe('answered');
    const turn = model.requests.find((request) => textsOf(request, 'user').includes(question.text))!;
    // The reply's model call sees the scheduled prompt and the answer posted in the channel.
    expect(textsOf(turn, 'user')[0]).toMatch(/^\[Scheduled run of trigger "daily"/);
    expect(textsOf(turn, 'model').join('\n')).toContain('changed: on-call.md');
    expect(post.text).toContain('changed: on-call.md');
    // The answer lands in the ambient post's thread.
    await expect
      .poll(() => slack.messages(DIGEST_CHANNEL, ts).filter((message) => message.botId).length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(3);
  });
});
