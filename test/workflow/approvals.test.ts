import { WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sendApproval, sendStop } from '../../temporal-client/send-message.ts';
import type { ReplyChannel } from '../../core/conversation.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { Content } from '../../core/spec.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import type { ApprovalEnded, ApprovalRequest, ReplyAdapter, TurnStatus } from '../../worker/replies/reply-channel.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { conversationDriver, incoming, lastUserText } from './conversation-helpers.ts';

const EventType = proto.api.enums.v1.EventType;

const ran: string[] = [];
const deployTool = defineTool({
  name: 'deploy',
  description: 'Deploys a service to production.',
  input: z.object({ service: z.string().describe('Service name.') }),
  approval: true,
  approvalTimeout: '2 seconds',
  handler: ({ service }) => {
    ran.push(`deploy ${service}`);
    return { deployed: service };
  },
});
const refundTool = defineTool({
  name: 'refund',
  description: 'Refunds an order.',
  input: z.object({ order: z.string().describe('Order id.'), amount: z.number().describe('Amount in euros.') }),
  approval: ({ amount }) => amount > 100,
  handler: ({ order, amount }) => {
    ran.push(`refund ${order} ${amount}`);
    return { refunded: amount };
  },
});
const agent = defineAgent({
  name: 'ops',
  instructions: 'Operate carefully.',
  tools: [deployTool, refundTool],
  approvalTimeout: '30 seconds',
});

/** Calls the tool the question names; then reports what the tool call gave back, so tests can read it. */
function respond(request: GeminiRequest) {
  const response = (request.body.contents as Content[]).at(-1)!.parts.find((part) => part.functionResponse)?.functionResponse;
  if (response) return answer(`Tool said: ${JSON.stringify(response.response)}`);
  const question = lastUserText(request);
  const deploy = /deploy (\S+)/.exec(question);
  if (deploy) return callTools({ name: 'deploy', args: { service: deploy[1] } });
  const refund = /refund (\S+) (\d+)/.exec(question);
  if (refund) return callTools({ name: 'refund', args: { order: refund[1], amount: Number(refund[2]) } });
  return answer('Nothing to do.');
}

/** History as text, payloads decoded, so a search finds what any event carries. */
function readable(history: unknown): string {
  // Protobuf's toJSON turns payload bytes into base64 before a replacer sees them.
  return JSON.stringify(history, (key, value: unknown) =>
    key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value,
  );
}

interface Posted {
  approvals: ApprovalRequest[];
  ended: { requestId: string; ended: ApprovalEnded }[];
  answers: { key: string; text: string }[];
  statuses: { key: string; status: TurnStatus }[];
}

function recordingAdapter(posted: Posted): ReplyAdapter {
  return {
    async status(_channel: ReplyChannel, key, status) {
      posted.statuses.push({ key, status });
    },
    async answer(_channel, key, text) {
      posted.answers.push({ key, text });
    },
    async requestApproval(_channel, request) {
      posted.approvals.push(request);
    },
    async approvalEnded(_channel, request, ended) {
      posted.ended.push({ requestId: request.requestId, ended });
    },
  };
}

describe.skipIf(noTemporal)('approvals', () => {
  const temporal = useTemporal();
  const posted: Posted = { approvals: [], ended: [], answers: [], statuses: [] };
  const endedOf = (requestId: string) => posted.ended.filter((entry) => entry.requestId === requestId).map((entry) => entry.ended);
  let model: GeminiServer;
  let taskQueue: string;
  beforeAll(async () => {
    model = await startScriptedModel(respond);
    taskQueue = temporal.taskQueue('approvals');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [agent],
      modelUrl: model.url,
      replyAdapters: { none: recordingAdapter(posted) },
    });
  });
  afterAll(async () => {
    await model?.close();
  });

  const modelSaw = (question: string) => {
    const request = model.requests.find(
      (candidate) => lastUserText(candidate) === question && (candidate.body.contents as Content[]).length > 2,
    )!;
    return (request.body.contents as Content[]).at(-1)!.parts[0]!.functionResponse!.response;
  };

  async function waitForRequest(chat: ReturnType<typeof conversationDriver>) {
    await expect.poll(async () => (await chat.pendingApprovals()).length, { timeout: 10_000 }).toBe(1);
    return (await chat.pendingApprovals())[0]!;
  }

  it("refuses a stranger's decision in the validator, leaving no trace in history; the requester's approval lets the tool run", async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    await chat.send(incoming('please deploy billing'));
    const request = await waitForRequest(chat);
    expect(request).toMatchObject({ tool: 'deploy', args: { service: 'billing' }, approvers: ['U-ASKER'], turn: 1 });
    await expect
      .poll(() => posted.approvals.find((candidate) => candidate.requestId === request.requestId), { timeout: 5_000 })
      .toMatchObject({
        conversationId: chat.conversationId,
        approvers: ['U-ASKER'],
        tool: 'deploy',
      });

    const before = (await chat.handle.fetchHistory()).events!.length;
    const stranger = sendApproval(temporal.client, chat.conversationId, {
      requestId: request.requestId,
      decision: 'approve',
      approver: 'U-STRANGER',
    });
    await expect(stranger).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(stranger).rejects.toHaveProperty('cause.message', `U-STRANGER may not decide on approval request ${request.requestId}.`);
    const unknown = sendApproval(temporal.client, chat.conversationId, {
      requestId: 'no-such-request',
      decision: 'approve',
      approver: 'U-ASKER',
    });
    await expect(unknown).rejects.toHaveProperty('cause.message', 'There is no approval request no-such-request in this conversation.');
    const after = await chat.handle.fetchHistory();
    expect(after.events!.length).toBe(before);
    expect(readable(after)).not.toContain('U-STRANGER');
    expect(readable(after)).toContain('U-ASKER');
    expect(ran).not.toContain('deploy billing');

    const recorded = await sendApproval(temporal.client, chat.conversationId, {
      requestId: request.requestId,
      decision: 'approve',
      approver: 'U-ASKER',
    });
    expect(recorded).toMatchObject({ requestId: request.requestId, decision: 'approve', approver: 'U-ASKER' });
    await expect(
      sendApproval(temporal.client, chat.conversationId, { requestId: request.requestId, decision: 'deny', approver: 'U-ASKER' }),
    ).rejects.toHaveProperty('cause.message', `Approval request ${request.requestId} has already been decided or has expired.`);

    await chat.waitForTurn(1);
    expect(ran).toContain('deploy billing');
    expect(modelSaw('please deploy billing')).toEqual({ output: { deployed: 'billing' } });
    // The answer is posted right after the turn is marked answered.
    await expect
      .poll(() => posted.answers, { timeout: 5_000 })
      .toContainEqual({ key: `${chat.conversationId}#1`, text: 'Tool said: {"output":{"deployed":"billing"}}' });

    // Who decided and when: in the conversation's history (its update) and the run's (its own validated update, never a signal).
    const accepted = (await summariseHistory(chat.handle)).events.filter(
      (event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    );
    expect(accepted.map((event) => event.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!.name)).toEqual([
      'message',
      'decideApproval',
    ]);
    const run = await summariseHistory(temporal.client.workflow.getHandle(`${chat.conversationId}/turn-1`));
    expect(run.events.filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'approvalDecided')).toEqual([]);
    const verdict = run.events.find(
      (event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'approvalVerdict',
    )!;
    const payload = verdict.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!.args!.payloads![0]!;
    expect(JSON.parse(Buffer.from(payload.data!).toString())).toEqual(recorded);
  });

  it('is not woken by a forged decision: a bare signal is ignored, an update for a request it does not wait for is refused', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    await chat.send(incoming('please deploy forged'));
    const request = await waitForRequest(chat);
    const runHandle = temporal.client.workflow.getHandle(`${chat.conversationId}/turn-1`);
    const forged = { requestId: request.requestId, decision: 'approve', approver: 'U-ASKER', decidedAt: new Date().toISOString() };
    await runHandle.signal('approvalDecided', forged);
    await expect(runHandle.executeUpdate('approvalVerdict', { args: [{ ...forged, requestId: 'not-a-request' }] })).rejects.toBeInstanceOf(
      WorkflowUpdateFailedError,
    );
    // Still waiting: the call did not run, and the request is still open.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await chat.pendingApprovals()).toHaveLength(1);
    expect(ran).not.toContain('deploy forged');
    await sendApproval(temporal.client, chat.conversationId, { requestId: request.requestId, decision: 'deny', approver: 'U-ASKER' });
    await chat.waitForTurn(1);
    expect(ran).not.toContain('deploy forged');
  });

  it('tells the model a denial, with who denied; only configured approvers may decide', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name, { approvers: ['U-LEAD'] });
    await chat.send(incoming('please deploy search'));
    const request = await waitForRequest(chat);
    expect(request.approvers).toEqual(['U-LEAD']);
    await expect(
      sendApproval(temporal.client, chat.conversationId, { requestId: request.requestId, decision: 'approve', approver: 'U-ASKER' }),
    ).rejects.toHaveProperty('cause.message', `U-ASKER may not decide on approval request ${request.requestId}.`);
    await sendApproval(temporal.client, chat.conversationId, { requestId: request.requestId, decision: 'deny', approver: 'U-LEAD' });
    await chat.waitForTurn(1);
    expect(ran).not.toContain('deploy search');
    expect(modelSaw('please deploy search')).toMatchObject({
      error: { type: 'ApprovalDenied', message: expect.stringMatching(/^U-LEAD denied this call at .*; it did not run\.$/) },
    });
    // The request's message is told how it ended, once.
    await expect.poll(() => endedOf(request.requestId)).toEqual([{ outcome: 'denied', by: 'U-LEAD', at: expect.any(String) }]);
  });

  it('denies a call nobody decides on before the timeout', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    await chat.send(incoming('please deploy ledger'));
    const request = await waitForRequest(chat);
    expect(Date.parse(request.expiresAt) - Date.now()).toBeLessThanOrEqual(2_000);
    await chat.waitForTurn(1);
    expect(ran).not.toContain('deploy ledger');
    expect(modelSaw('please deploy ledger')).toMatchObject({ error: { type: 'ApprovalTimedOut' } });
    expect(await chat.pendingApprovals()).toEqual([]);
    await expect(
      sendApproval(temporal.client, chat.conversationId, { requestId: request.requestId, decision: 'approve', approver: 'U-ASKER' }),
    ).rejects.toHaveProperty('cause.message', `Approval request ${request.requestId} has already been decided or has expired.`);
    const run = await summariseHistory(temporal.client.workflow.getHandle(`${chat.conversationId}/turn-1`));
    expect(run.events.map((event) => event.eventType)).toContain(EventType.EVENT_TYPE_TIMER_FIRED);
    await expect.poll(() => endedOf(request.requestId)).toEqual([{ outcome: 'timed_out', at: expect.any(String) }]);
  });

  it('withdraws the open request of a turn that is stopped while it waits', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    // A refund above 100 asks, and waits up to the agent's 30 seconds.
    await chat.send(incoming('please refund A-77 500'));
    const request = await waitForRequest(chat);
    expect(await sendStop(temporal.client, chat.conversationId, { by: 'U-ASKER' })).toEqual({ stopped: true, turn: 1 });
    await chat.waitForTurn(1, 'stopped');
    expect(ran).not.toContain('refund A-77 500');
    await expect.poll(() => endedOf(request.requestId)).toEqual([{ outcome: 'withdrawn', at: expect.any(String) }]);
    expect(await chat.pendingApprovals()).toEqual([]);
  });

  it('asks only when the predicate says so, evaluated in the worker', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    await chat.send(incoming('refund A-1 40'));
    await chat.waitForTurn(1);
    expect(ran).toContain('refund A-1 40');
    await chat.send(incoming('refund A-2 400'));
    const request = await waitForRequest(chat);
    expect(request).toMatchObject({ tool: 'refund', args: { order: 'A-2', amount: 400 }, turn: 2 });
    await sendApproval(temporal.client, chat.conversationId, { requestId: request.requestId, decision: 'approve', approver: 'u-asker' });
    await chat.waitForTurn(2);
    expect(ran).toContain('refund A-2 400');
    const history = await summariseHistory(temporal.client.workflow.getHandle(`${chat.conversationId}/turn-1`));
    expect(history.scheduled).toEqual(['appendToTranscript', 'callModel', 'needsApproval', 'tool:refund', 'callModel']);
  });

  it('refuses a call that needs approval in a run outside any conversation', async () => {
    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `test-${crypto.randomUUID()}`,
      args: [{ spec: compileAgent(agent), prompt: 'please deploy alone' }],
    });
    const result = (await handle.result()) as AgentRunResult;
    expect(result.stopReason).toBe('answer');
    expect(modelSaw('please deploy alone')).toMatchObject({ error: { type: 'ApprovalUnavailable' } });
    expect(ran).not.toContain('deploy alone');
  });
});
