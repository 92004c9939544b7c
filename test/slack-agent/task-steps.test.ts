import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sendMessage } from '../../temporal-client/send-message.ts';
import { TURNS_QUERY, type ReplyChannel, type TurnSummary } from '../../core/conversation.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { defineTool, ToolInputError } from '../../authoring/define-tool.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createMemoryRecordFiles } from '../../store/record-files.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createPostedReplies } from '../../store/posted-replies.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const TOKEN = 'xoxb-steps';
const TEAM = 'T0TEAM';
const DM = 'D0ANA';
const GENERAL = 'C0GENERAL';

let agentApp: SlackApiServer;
let outsideMarketplace: SlackApiServer;

beforeAll(async () => {
  agentApp = await startSlackApiServer({ tokens: [TOKEN], appView: 'agent' });
  outsideMarketplace = await startSlackApiServer({ tokens: [TOKEN], marketplaceApproved: false });
});
afterAll(async () => {
  await Promise.all([agentApp?.close(), outsideMarketplace?.close()]);
});

/** A worker's Slack adapter: a new one is a new process (nothing in memory), sharing only the records. */
function worker(server: SlackApiServer, records = createMemoryRecordFiles()) {
  const client = createSlackWebClient({ token: TOKEN, apiUrl: server.url });
  return createSlackReplyAdapter({
    client,
    approvalTokenSecret: 'secret',
    statusIntervalMs: 0,
    posted: createPostedReplies(records),
    stepRecords: records,
  });
}

describe('tool steps as task cards in the turn’s stream', () => {
  it('each step arrives once, as one card that ends complete, even when a worker dies mid-stream and another takes over', async () => {
    const threadTs = agentApp.addUserMessage({ channel: DM, user: 'U0ANA', text: 'deploy billing' });
    const channel: ReplyChannel = { kind: 'slack', teamId: TEAM, channelId: DM, threadTs };
    const key = `slack:${TEAM}:${DM}:${threadTs}#1`;
    const records = createMemoryRecordFiles();

    const first = worker(agentApp, records);
    await first.status(channel, key, { state: 'thinking', step: 1, title: 'deploy billing' });
    await first.status(channel, key, { state: 'tool', step: 1, tool: 'lookup_service' });
    // The worker dies here; Temporal retries the status on another worker, and the turn goes on there.
    const second = worker(agentApp, records);
    await second.status(channel, key, { state: 'tool', step: 1, tool: 'lookup_service' });
    await second.status(channel, key, { state: 'waiting_for_approval', tool: 'deploy', requestId: 'req-1' });
    await second.approvalEnded!(
      channel,
      {
        requestId: 'req-1',
        conversationId: `slack:${TEAM}:${DM}:${threadTs}`,
        tool: 'deploy',
        args: {},
        approvers: ['U0ANA'],
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      },
      { outcome: 'approved', by: 'U0ANA', at: new Date().toISOString() },
    );
    await second.status(channel, key, { state: 'tool', step: 2, tool: 'deploy' });
    await second.status(channel, key, { state: 'done' });

    const withCards = agentApp.messages(DM, threadTs).filter((message) => message.tasks);
    expect(withCards).toHaveLength(1);
    const cards = withCards[0]!.tasks!;
    expect(cards.map((card) => [card.id, card.title, card.status])).toEqual([
      ['step-1-lookup_service', 'lookup_service', 'complete'],
      ['approval-req-1', 'Approval to run deploy', 'complete'],
      ['step-2-deploy', 'deploy', 'complete'],
    ]);
    expect(cards.find((card) => card.id === 'approval-req-1')?.output).toBe('Approved by U0ANA');
    expect(withCards[0]!.stream?.stopped).toBe(true);
    expect(
      agentApp
        .agentSession(DM, threadTs)
        ?.statuses.map((entry) => entry.status)
        .at(-1),
    ).toBe('active');
  });

  it('a card the dead worker left open is settled by the worker that takes over', async () => {
    const threadTs = agentApp.addUserMessage({ channel: DM, user: 'U0ANA', text: 'sync the ledger' });
    const channel: ReplyChannel = { kind: 'slack', teamId: TEAM, channelId: DM, threadTs };
    const key = `slack:${TEAM}:${DM}:${threadTs}#1`;
    const records = createMemoryRecordFiles();
    await worker(agentApp, records).status(channel, key, { state: 'tool', step: 1, tool: 'sync_ledger' });
    await worker(agentApp, records).status(channel, key, { state: 'done' });
    const [steps] = agentApp.messages(DM, threadTs).filter((message) => message.tasks);
    expect(steps?.tasks?.map((card) => [card.id, card.status])).toEqual([['step-1-sync_ledger', 'complete']]);
    expect(steps?.stream?.stopped).toBe(true);
  });

  it('in a channel, the steps stream names who asked, as Slack requires there', async () => {
    const threadTs = agentApp.addUserMessage({ channel: GENERAL, user: 'U0BEN', text: 'check the rollout' });
    const channel: ReplyChannel = { kind: 'slack', teamId: TEAM, channelId: GENERAL, threadTs, recipientUserId: 'U0BEN' };
    const key = `slack:${TEAM}:${GENERAL}:${threadTs}#1`;
    const adapter = worker(agentApp);
    await adapter.status(channel, key, { state: 'tool', step: 1, tool: 'check_rollout' });
    await adapter.status(channel, key, { state: 'stopped' });
    const [steps] = agentApp.messages(GENERAL, threadTs).filter((message) => message.tasks);
    expect(steps?.stream?.recipient).toEqual({ user: 'U0BEN', team: TEAM });
    expect(steps?.tasks?.map((card) => [card.id, card.status, card.output])).toEqual([
      ['step-1-check_rollout', 'error', 'Stopped before it finished'],
    ]);
    expect(agentApp.agentSession(GENERAL, threadTs)?.statuses.at(-1)?.status).toBe('closed');
  });
});

/** A credential in a tool's result: the card must never show it. */
const SECRET = 'xoxb-4242-secret-config-token';
const readConfig = defineTool({
  name: 'read_config',
  description: 'Reads a service’s configuration.',
  input: z.object({ service: z.string().describe('Which service.') }),
  async handler({ service }) {
    return { service, token: SECRET, replicas: 3, notes: 'Scaled up for the <!channel> launch. '.repeat(20) };
  },
});
const restartService = defineTool({
  name: 'restart_service',
  description: 'Restarts a service.',
  input: z.object({ service: z.string().describe('Which service.') }),
  async handler({ service }) {
    throw new ToolInputError(`${service} is down and cannot restart; password=hunter2`, 'ServiceDown');
  },
});

/** The `task_update` chunks sent for card `id`, in every stream call, in order. */
function chunksOf(server: SlackApiServer, id: string): Record<string, unknown>[] {
  return server.calls
    .filter((call) => /^chat\.(start|append|stop)Stream$/.test(call.method) && call.outcome === 'ok')
    .flatMap((call) => {
      const chunks = call.args.chunks;
      return (typeof chunks === 'string' ? JSON.parse(chunks) : (chunks ?? [])) as Record<string, unknown>[];
    })
    .filter((chunk) => chunk.type === 'task_update' && chunk.id === id);
}

describe.skipIf(noTemporal)('a finished tool step’s output on its card', () => {
  const temporal = useTemporal();
  let slack: SlackApiServer;
  let model: GeminiServer;
  let taskQueue: string;

  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [TOKEN], appView: 'agent' });
    model = await startScriptedModel([
      callTools({ name: 'read_config', args: { service: 'billing' } }),
      callTools({ name: 'restart_service', args: { service: 'billing' } }),
      answer('Billing is down.'),
    ]);
    taskQueue = temporal.taskQueue('task-output');
    const client = createSlackWebClient({ token: TOKEN, apiUrl: slack.url });
    await temporal.startWorker({
      taskQueue,
      tools: [readConfig, restartService],
      agents: [defineAgent({ name: 'assistant', instructions: 'Be brief.', tools: [readConfig, restartService] })],
      modelUrl: model.url,
      replyAdapters: { slack: createSlackReplyAdapter({ client, approvalTokenSecret: 'secret', statusIntervalMs: 10 }) },
    });
  });
  afterAll(async () => {
    await slack?.close();
    await model?.close();
  });

  it('each step’s card ends with a short, redacted excerpt of its result (or its error type), sent once', { timeout: 60_000 }, async () => {
    const text = 'restart billing';
    const threadTs = slack.addUserMessage({ channel: DM, user: 'U0ANA', text });
    const conversationId = `slack:${TEAM}:${DM}:${threadTs}`;
    await sendMessage(temporal.client, {
      conversationId,
      taskQueue,
      start: { conversationId, agent: 'assistant', channel: { kind: 'slack', teamId: TEAM, channelId: DM, threadTs } },
      message: { id: `slack-message:${TEAM}:${DM}:${threadTs}`, text, user: { id: 'U0ANA' }, receivedAt: new Date().toISOString() },
    });
    const handle = temporal.client.workflow.getHandle(conversationId);
    await expect
      .poll(async () => (await handle.query<TurnSummary[]>(TURNS_QUERY))[0]?.status, { timeout: 30_000, interval: 300 })
      .toBe('answered');
    await expect.poll(() => slack.messages(DM, threadTs).find((message) => message.tasks)?.stream?.stopped, { timeout: 10_000 }).toBe(true);

    const steps = slack.messages(DM, threadTs).filter((message) => message.tasks);
    expect(steps).toHaveLength(1);
    const [config, restart] = steps[0]!.tasks!;
    expect([config?.id, config?.status, restart?.id, restart?.status]).toEqual([
      'step-1-read_config',
      'complete',
      'step-2-restart_service',
      'error',
    ]);
    // The stored result's JSON, cut short, the token hidden, nothing Slack would parse as a mention.
    expect(config?.output).toMatch(
      /^\{"ok":true,"result":\{"service":"billing","token":"\[redacted\]","replicas":3,"notes":"Scaled up for the &lt;!channel&gt; launch\. /,
    );
    expect(config?.output?.length).toBeLessThanOrEqual(256);
    expect(config?.output).not.toContain('xoxb');
    // A failure shows its type only: its message may say anything.
    expect(restart?.output).toBe('Failed: ServiceDown');
    expect(JSON.stringify(slack.calls)).not.toContain('hunter2');

    // Each output was sent once: no status retried or repeated it.
    for (const id of ['step-1-read_config', 'step-2-restart_service'])
      expect(chunksOf(slack, id).filter((chunk) => chunk.output !== undefined)).toHaveLength(1);
  });
});

describe('reply idempotency without reading the thread back', () => {
  it('a retried answer on another worker finds the record: posted once, conversations.replies never called (one a minute outside the Marketplace)', async () => {
    const threadTs = outsideMarketplace.addUserMessage({ channel: GENERAL, user: 'U0ANA', text: 'hello' });
    const channel: ReplyChannel = { kind: 'slack', teamId: TEAM, channelId: GENERAL, threadTs };
    const key = `slack:${TEAM}:${GENERAL}:${threadTs}#1`;
    const records = createMemoryRecordFiles();
    await worker(outsideMarketplace, records).answer(channel, key, 'Hello back.');
    await worker(outsideMarketplace, records).answer(channel, key, 'Hello back.');
    await worker(outsideMarketplace, records).status(channel, key, { state: 'done' });
    await worker(outsideMarketplace, records).status(channel, key, { state: 'done' });

    const bot = outsideMarketplace.messages(GENERAL, threadTs).filter((message) => message.botId);
    expect(bot.map((message) => message.text)).toEqual(['Hello back.', ':white_check_mark: Done']);
    expect(outsideMarketplace.calls.filter((call) => call.method === 'conversations.replies')).toEqual([]);
  });

  it('the stand-in holds an app outside the Marketplace to one read a minute and 15 messages a page', async () => {
    const threadTs = outsideMarketplace.addUserMessage({ channel: GENERAL, user: 'U0ANA', text: 'hi' });
    const read = () =>
      fetch(`${outsideMarketplace.url}conversations.replies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ channel: GENERAL, ts: threadTs, limit: 200 }),
      });
    const first = await read();
    expect(first.status).toBe(200);
    const second = await read();
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(50);
  });
});
