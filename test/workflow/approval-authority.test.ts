import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sendApproval, sendStop } from '../../temporal-client/send-message.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { AgentSpec, Content } from '../../core/spec.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { conversationDriver, incoming, lastUserText, type ConversationDriver } from './conversation-helpers.ts';

const ran: string[] = [];
const payTool = defineTool({
  name: 'pay',
  description: 'Pays an invoice.',
  input: z.object({ invoice: z.string().describe('Invoice id.') }),
  approval: true,
  approvers: ['finance', 'U-CFO'],
  notRequester: true,
  handler: ({ invoice }) => {
    ran.push(`pay ${invoice}`);
    return { paid: invoice };
  },
});
const deployTool = defineTool({
  name: 'deploy',
  description: 'Deploys a service.',
  input: z.object({ service: z.string().describe('Service name.') }),
  approval: true,
  approvers: ['U-LEAD'],
  handler: ({ service }) => {
    ran.push(`deploy ${service}`);
    return { deployed: service };
  },
});
const wipeTool = defineTool({
  name: 'wipe',
  description: 'Wipes a disk.',
  input: z.object({ disk: z.string().describe('Disk name.') }),
  approval: true,
  handler: ({ disk }) => {
    ran.push(`wipe ${disk}`);
    return { wiped: disk };
  },
});
const pingTool = defineTool({
  name: 'ping',
  description: 'Pings a host.',
  input: z.object({ host: z.string().describe('Host name.') }),
  handler: ({ host }) => {
    ran.push(`ping ${host}`);
    return { pong: host };
  },
});
const agent = defineAgent({
  name: 'finance_ops',
  instructions: 'Operate carefully.',
  tools: [payTool, deployTool, wipeTool, pingTool],
  approverGroups: { finance: ['U-FIN1', 'fin2@example.com'] },
  approvalTimeout: '30 seconds',
  limits: { maxToolCallsPerStep: 3 },
});

/** Calls the tool the question names; then repeats what the tool calls gave back. */
function respond(request: GeminiRequest) {
  const responses = (request.body.contents as Content[])
    .at(-1)!
    .parts.flatMap((part) => (part.functionResponse ? [part.functionResponse.response] : []));
  if (responses.length) return answer(JSON.stringify(responses));
  const question = lastUserText(request);
  const pay = /pay (\S+)/.exec(question);
  if (pay) return callTools({ name: 'pay', args: { invoice: pay[1] } });
  const deploy = /deploy (\S+)/.exec(question);
  if (deploy) return callTools({ name: 'deploy', args: { service: deploy[1] } });
  const wipe = /wipe (\S+)/.exec(question);
  if (wipe) return callTools({ name: 'wipe', args: { disk: wipe[1] } });
  const ping = /ping (\d+) hosts/.exec(question);
  if (ping) return callTools(...Array.from({ length: Number(ping[1]) }, (_, index) => ({ name: 'ping', args: { host: `h${index}` } })));
  return answer('Nothing to do.');
}

describe.skipIf(noTemporal)('approvals with authority', () => {
  const temporal = useTemporal();
  let model: GeminiServer;
  let taskQueue: string;
  beforeAll(async () => {
    model = await startScriptedModel(respond);
    taskQueue = temporal.taskQueue('authority');
    await temporal.startWorker({ taskQueue, tools: [], agents: [agent], modelUrl: model.url });
  });
  afterAll(async () => {
    await model?.close();
  });

  /** What the model was told about the calls of a question: the tool results, in order. */
  const modelSaw = (question: string) => {
    const request = model.requests.find(
      (candidate) =>
        lastUserText(candidate).includes(question) &&
        (candidate.body.contents as Content[]).at(-1)!.parts.some((part) => part.functionResponse),
    );
    return request
      ? (request.body.contents as Content[])
          .at(-1)!
          .parts.flatMap((part) => (part.functionResponse ? [part.functionResponse.response] : []))
      : undefined;
  };

  async function waitForRequest(chat: ConversationDriver, turn = 1) {
    await expect
      .poll(async () => (await chat.pendingApprovals()).filter((request) => request.turn === turn).length, { timeout: 10_000 })
      .toBe(1);
    return (await chat.pendingApprovals()).find((request) => request.turn === turn)!;
  }

  const refusal = (chat: ConversationDriver, requestId: string, approver: string) =>
    sendApproval(temporal.client, chat.conversationId, { requestId, decision: 'approve', approver });

  it("lets only the tool's named approvers decide, groups expanded from the agent's data; the requester may not", async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    await chat.send(incoming('please pay INV-1'));
    const request = await waitForRequest(chat);
    expect(request.approvers).toEqual(['U-FIN1', 'fin2@example.com', 'U-CFO']);
    await expect(refusal(chat, request.requestId, 'U-ASKER')).rejects.toHaveProperty(
      'cause.message',
      `U-ASKER may not decide on approval request ${request.requestId}.`,
    );
    await expect(refusal(chat, request.requestId, 'finance')).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    expect(ran).not.toContain('pay INV-1');
    await refusal(chat, request.requestId, 'FIN2@example.com');
    await chat.waitForTurn(1);
    expect(ran).toContain('pay INV-1');
    expect(modelSaw('please pay INV-1')).toEqual([{ output: { paid: 'INV-1' } }]);

    const deploy = conversationDriver(temporal.client, taskQueue, agent.name);
    await deploy.send(incoming('please deploy billing'));
    const asked = await waitForRequest(deploy);
    expect(asked.approvers).toEqual(['U-LEAD']);
    await expect(refusal(deploy, asked.requestId, 'U-ASKER')).rejects.toHaveProperty(
      'cause.message',
      `U-ASKER may not decide on approval request ${asked.requestId}.`,
    );
    await refusal(deploy, asked.requestId, 'U-LEAD');
    await deploy.waitForTurn(1);
    expect(ran).toContain('deploy billing');
  });

  it('notRequester: a named approver who asked may not approve their own call', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    await chat.send(incoming('please pay INV-2', { user: { id: 'U-FIN1', email: 'fin1@example.com' } }));
    const request = await waitForRequest(chat);
    expect(request.approvers).toEqual(['fin2@example.com', 'U-CFO']);
    await expect(refusal(chat, request.requestId, 'U-FIN1')).rejects.toHaveProperty(
      'cause.message',
      `U-FIN1 may not decide on approval request ${request.requestId}.`,
    );
    await refusal(chat, request.requestId, 'U-CFO');
    await chat.waitForTurn(1);
    expect(ran).toContain('pay INV-2');
  });

  it('a turn that answers several people is approvable only by who may approve for all of them', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    // Turn 1 waits for its approver while two more people write: both messages land in turn 2.
    await chat.send(incoming('please deploy search'));
    const first = await waitForRequest(chat, 1);
    expect(await chat.send(incoming('and pay INV-3', { user: { id: 'U-FIN1' } }))).toMatchObject({ turn: 2 });
    expect(await chat.send(incoming('thanks', { user: { id: 'fin2@example.com' } }))).toMatchObject({ turn: 2 });
    await refusal(chat, first.requestId, 'U-LEAD');
    const request = await waitForRequest(chat, 2);
    // Each of the finance group asked, so neither may approve: only the CFO is left.
    expect(request.approvers).toEqual(['U-CFO']);
    for (const who of ['U-FIN1', 'fin2@example.com']) {
      await expect(refusal(chat, request.requestId, who)).rejects.toHaveProperty(
        'cause.message',
        `${who} may not decide on approval request ${request.requestId}.`,
      );
    }
    await refusal(chat, request.requestId, 'U-CFO');
    await chat.waitForTurn(2);
    expect(ran).toContain('pay INV-3');
  });

  it("refuses a stranger's stop in the validator, leaving no event in history; an approver's stop stops the turn", async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    await chat.send(incoming('please deploy ledger'));
    await waitForRequest(chat);
    const before = (await chat.handle.fetchHistory()).events!.length;
    const stranger = sendStop(temporal.client, chat.conversationId, { by: 'U-STRANGER' });
    await expect(stranger).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(stranger).rejects.toHaveProperty(
      'cause.message',
      'U-STRANGER may not stop turn 1: only the people who asked and its approvers may.',
    );
    await expect(sendStop(temporal.client, chat.conversationId)).rejects.toHaveProperty(
      'cause.message',
      expect.stringContaining('a stop names who asks ("by")'),
    );
    const after = await chat.handle.fetchHistory();
    expect(after.events!.length).toBe(before);
    expect(JSON.stringify(after)).not.toContain('U-STRANGER');
    expect(await sendStop(temporal.client, chat.conversationId, { by: 'U-LEAD' })).toEqual({ stopped: true, turn: 1 });
    await chat.waitForTurn(1, 'stopped');
    expect(ran).not.toContain('deploy ledger');
  });

  it('a forged spec that says a tool needs no approval does not skip it: the worker refuses (ApprovalMissing)', async () => {
    const compiled = compileAgent(agent);
    const forged: AgentSpec = { ...compiled, tools: compiled.tools.map((tool) => ({ ...tool, approval: 'never' as const })) };
    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `test-${crypto.randomUUID()}`,
      // A grant that names no recorded approval is no better than none.
      args: [
        {
          spec: forged,
          prompt: 'please wipe disk-1',
          conversation: { workflowId: 'test:nowhere', channel: { kind: 'none' }, approvers: ['U-ASKER'] },
        },
      ],
    });
    const result = (await handle.result()) as AgentRunResult;
    expect(result.stopReason).toBe('answer');
    expect(ran).not.toContain('wipe disk-1');
    expect(modelSaw('please wipe disk-1')).toEqual([
      {
        error: {
          type: 'ApprovalMissing',
          message: "tool:wipe needs a person's approval and none was recorded for this call; it did not run.",
        },
      },
    ]);
  });

  it("runs at most the agent's cap of tool calls per step; the model is told the rest did not run", async () => {
    const before = ran.filter((entry) => entry.startsWith('ping')).length;
    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `test-${crypto.randomUUID()}`,
      args: [{ spec: compileAgent(agent), prompt: 'ping 5 hosts' }],
    });
    await handle.result();
    expect(ran.filter((entry) => entry.startsWith('ping')).length - before).toBe(3);
    const seen = modelSaw('ping 5 hosts')!;
    expect(seen.slice(0, 3)).toEqual([{ output: { pong: 'h0' } }, { output: { pong: 'h1' } }, { output: { pong: 'h2' } }]);
    expect(seen.slice(3)).toEqual([
      { error: { type: 'TooManyToolCalls', message: expect.stringContaining('at most 3 tool calls') } },
      { error: { type: 'TooManyToolCalls', message: expect.stringContaining('at most 3 tool calls') } },
    ]);
  });
});
