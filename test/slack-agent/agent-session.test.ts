import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sendApproval, sendMessage } from '../../temporal-client/send-message.ts';
import { PENDING_APPROVALS_QUERY, TURNS_QUERY, type PendingApproval, type TurnSummary } from '../../core/conversation.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import type { InboundEvent } from '../../events/inbound-event.ts';
import type { Content } from '../../core/spec.ts';
import { deliver } from '../../functions/dispatch/deliver.ts';
import { routeEvent } from '../../functions/dispatch/route.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { silentLog } from '../../functions/shared/log.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackAnswerStreams } from '../../worker/replies/slack-stream.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { dispatchConfig } from '../dispatch/support.ts';
import { APPROVAL_SECRET, slackConfig, slackPost } from '../../testkit/ingress.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const TOKEN = 'xoxb-sessions';
const TEAM = 'T0TEAM';
const DM = 'D0ANA';
const ANA = 'U0ANA';
const STRANGER = 'U0EVE';

/** Rollouts the tool saw cancelled, by id. */
const cancelledRollouts: string[] = [];
const deploy = defineTool({
  name: 'deploy',
  description: 'Deploys a service.',
  input: z.object({ service: z.string().describe('Which service.') }),
  approval: true,
  async handler({ service }) {
    return { deployed: service };
  },
});
const watchRollout = defineTool({
  name: 'watch_rollout',
  description: 'Waits until a rollout finishes.',
  input: z.object({ rollout: z.string().describe('Rollout id.') }),
  timeout: '1 minute',
  async handler({ rollout }, { signal }) {
    await new Promise((_resolve, reject) =>
      signal.addEventListener('abort', () => {
        cancelledRollouts.push(rollout);
        reject(new Error('aborted'));
      }),
    );
  },
});
const checkService = defineTool({
  name: 'check_service',
  description: 'Checks a service.',
  input: z.object({ service: z.string().describe('Which service.') }),
  async handler({ service }) {
    return { healthy: service };
  },
});
const agent = defineAgent({
  name: 'assistant',
  instructions: 'Be brief.',
  tools: [deploy, watchRollout, checkService],
  limits: { maxSteps: 4 },
});

/** "deploy" asks for the gated tool, "rollout <id>" blocks until cancelled or the test's `release` lets it answer; anything else is answered. */
function respond(request: GeminiRequest) {
  const contents = request.body.contents as Content[];
  const response = contents.at(-1)!.parts.find((part) => part.functionResponse)?.functionResponse;
  if (response) return answer(`Done: ${response.name}.`);
  const question = contents
    .filter((content) => content.role === 'user')
    .at(-1)!
    .parts.map((part) => part.text ?? '')
    .join('');
  if (question.includes('check and deploy'))
    return callTools({ name: 'check_service', args: { service: 'billing' } }, { name: 'deploy', args: { service: 'billing' } });
  if (question.includes('deploy')) return callTools({ name: 'deploy', args: { service: 'billing' } });
  const rollout = /rollout (\S+)/.exec(question)?.[1];
  if (rollout) return callTools({ name: 'watch_rollout', args: { rollout } });
  return answer('Nothing to do.');
}

/** Each status once, in the order it was set. */
function changes(statuses: { status: string }[] | undefined): string[] {
  return (statuses ?? []).map((entry) => entry.status).filter((status, index, all) => status !== all[index - 1]);
}

describe.skipIf(noTemporal)('agent sessions: status per thread, and Slack’s stop button', () => {
  const temporal = useTemporal();
  let slack: SlackApiServer;
  let model: GeminiServer;
  let taskQueue: string;

  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [TOKEN], appView: 'agent' });
    model = await startScriptedModel(respond);
    const client = createSlackWebClient({ token: TOKEN, apiUrl: slack.url });
    taskQueue = temporal.taskQueue('agent-session');
    await temporal.startWorker({
      taskQueue,
      tools: [deploy, watchRollout, checkService],
      agents: [agent],
      modelUrl: model.url,
      replyAdapters: { slack: createSlackReplyAdapter({ client, approvalTokenSecret: APPROVAL_SECRET, statusIntervalMs: 10 }) },
      answerStreams: createSlackAnswerStreams({ client, bufferChars: 10, minAppendIntervalMs: 10, feedbackTokenSecret: APPROVAL_SECRET }),
    });
  });
  afterAll(async () => {
    await slack?.close();
    await model?.close();
  });

  async function ask(text: string, options: { idleTimeout?: string } = {}) {
    const threadTs = slack.addUserMessage({ channel: DM, user: ANA, text });
    const conversationId = `slack:${TEAM}:${DM}:${threadTs}`;
    await sendMessage(temporal.client, {
      conversationId,
      taskQueue,
      start: {
        conversationId,
        agent: 'assistant',
        channel: { kind: 'slack', teamId: TEAM, channelId: DM, threadTs },
        ...(options.idleTimeout ? { options: { idleTimeout: options.idleTimeout as never } } : {}),
      },
      message: { id: `slack-message:${TEAM}:${DM}:${threadTs}`, text, user: { id: ANA }, receivedAt: new Date().toISOString() },
    });
    return { threadTs, conversationId, handle: temporal.client.workflow.getHandle(conversationId) };
  }

  /** A click on the session's stop button, as Slack delivers it, through the edge and the dispatcher. */
  async function clickStop(threadTs: string, user: string) {
    const streaming = slack.clickStop(DM, threadTs);
    const queued: InboundEvent[] = [];
    const edge = createSlackApp({
      config: slackConfig('https://sqs.eu-west-1.amazonaws.com/123456789012/e.fifo'),
      queue: { send: async (event) => void queued.push(event) },
      log: silentLog,
    });
    const body = JSON.stringify({
      type: 'event_callback',
      team_id: TEAM,
      event_id: `Ev-stop-${threadTs}-${user}`,
      event: {
        type: 'agent_session_stopped',
        channel: DM,
        thread_ts: threadTs,
        user,
        event_ts: `${Date.now() / 1000}`,
        streaming_message_ts: streaming,
      },
    });
    expect((await edge.request('/slack/events', slackPost(body))).status).toBe(200);
    return deliver(temporal.client, routeEvent(queued[0]!, dispatchConfig(taskQueue)), { taskQueue, approvalSecret: APPROVAL_SECRET });
  }

  const turnStatus = async (handle: { query: <T>(name: string) => Promise<T> }) =>
    (await handle.query<TurnSummary[]>(TURNS_QUERY))[0]?.status;

  it('goes processing → suspended while an approval waits → processing → active, titled by the first message', async () => {
    const { threadTs, conversationId, handle } = await ask('deploy billing please');
    let pending: PendingApproval[] = [];
    await expect
      .poll(async () => (pending = await handle.query<PendingApproval[]>(PENDING_APPROVALS_QUERY)).length, { timeout: 20_000 })
      .toBe(1);
    await expect.poll(() => slack.agentSession(DM, threadTs)?.statuses.at(-1)?.status).toBe('suspended');
    await sendApproval(temporal.client, conversationId, { requestId: pending[0]!.requestId, decision: 'approve', approver: ANA });
    await expect.poll(() => turnStatus(handle), { timeout: 20_000 }).toBe('answered');
    await expect.poll(() => slack.agentSession(DM, threadTs)?.statuses.at(-1)?.status).toBe('active');

    const session = slack.agentSession(DM, threadTs);
    expect(changes(session?.statuses)).toEqual(['processing', 'suspended', 'processing', 'active']);
    expect(session?.title).toBe('deploy billing please');
    // The session shows the state: no status message, no assistant status.
    expect(slack.calls.filter((call) => call.method === 'assistant.threads.setStatus')).toEqual([]);
    expect(slack.messages(DM, threadTs).filter((message) => message.botId && /Thinking|Running/.test(message.text))).toEqual([]);
  });

  it('is processing again once the approval is given, also when the step’s tools were shown before it', async () => {
    const { threadTs, conversationId, handle } = await ask('check and deploy billing');
    let pending: PendingApproval[] = [];
    await expect
      .poll(async () => (pending = await handle.query<PendingApproval[]>(PENDING_APPROVALS_QUERY)).length, { timeout: 20_000 })
      .toBe(1);
    await expect.poll(() => slack.agentSession(DM, threadTs)?.statuses.at(-1)?.status).toBe('suspended');
    await sendApproval(temporal.client, conversationId, { requestId: pending[0]!.requestId, decision: 'approve', approver: ANA });
    await expect.poll(() => turnStatus(handle), { timeout: 20_000 }).toBe('answered');
    await expect.poll(() => slack.agentSession(DM, threadTs)?.statuses.at(-1)?.status).toBe('active');
    expect(changes(slack.agentSession(DM, threadTs)?.statuses)).toEqual(['processing', 'suspended', 'processing', 'active']);
  });

  it('closes the session when the conversation closes after being idle', async () => {
    const { threadTs, handle } = await ask('hello', { idleTimeout: '2 seconds' });
    await expect.poll(() => slack.agentSession(DM, threadTs)?.statuses.at(-1)?.status, { timeout: 20_000 }).toBe('active');
    await handle.result();
    expect(changes(slack.agentSession(DM, threadTs)?.statuses)).toEqual(['processing', 'active', 'closed']);
  });

  it('a stop click by the person who asked ends the turn, cancels its tool, and closes the session', async () => {
    const { threadTs, handle } = await ask('watch rollout r-stop');
    await expect.poll(async () => (await handle.query<{ state: string }>('currentStep')).state, { timeout: 20_000 }).toBe('tool');
    expect(slack.agentSession(DM, threadTs)?.statuses.at(-1)?.status).toBe('processing');

    expect(await clickStop(threadTs, ANA)).toMatchObject({ outcome: 'delivered', update: 'stop' });
    await expect.poll(() => turnStatus(handle), { timeout: 20_000 }).toBe('stopped');
    await expect.poll(() => cancelledRollouts).toContain('r-stop');
    await expect.poll(() => slack.agentSession(DM, threadTs)?.statuses.at(-1)?.status).toBe('closed');
  });

  it('a stop click by anyone else is answered in the thread, and the turn goes on', async () => {
    const { threadTs, handle } = await ask('watch rollout r-stranger');
    await expect.poll(async () => (await handle.query<{ state: string }>('currentStep')).state, { timeout: 20_000 }).toBe('tool');

    expect(await clickStop(threadTs, STRANGER)).toMatchObject({ outcome: 'delivered', update: 'stop' });
    await expect
      .poll(() => slack.messages(DM, threadTs).map((message) => message.text), { timeout: 10_000 })
      .toContainEqual(expect.stringContaining('may stop it, so it goes on'));
    expect(await turnStatus(handle)).toBe('running');
    expect(cancelledRollouts).not.toContain('r-stranger');
    expect(slack.agentSession(DM, threadTs)?.statuses.at(-1)?.status).toBe('processing');

    // The person who asked may still stop it.
    await clickStop(threadTs, ANA);
    await expect.poll(() => turnStatus(handle), { timeout: 20_000 }).toBe('stopped');
  });
});
