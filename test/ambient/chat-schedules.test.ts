import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createScheduleTools } from '../../agents/tools/schedules.ts';
import { createChatSchedule, listChatSchedules, MAX_SCHEDULES_PER_PERSON } from '../../temporal-client/chat-schedules.ts';
import { ownerKeyOf } from '../../temporal-client/schedule-spec.ts';
import { sendApproval } from '../../temporal-client/send-message.ts';
import type { ReplyChannel } from '../../core/conversation.ts';
import { defineAgent, type AgentDefinition } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import type { Content } from '../../core/spec.ts';
import { startGeminiServer, type GeminiRequest, type GeminiServer } from '../../local/gemini-server.ts';
import { offlineModel } from '../../local/offline-model.ts';
import type { ApprovalRequest, ReplyAdapter, ThreadStart } from '../../worker/replies/reply-channel.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { conversationDriver, incoming, lastUserText, type ConversationDriver } from '../workflow/conversation-helpers.ts';

/**
 * Schedules asked for in chat, end to end on the dev server: the offline model routes the
 * request to create_schedule, the asker approves through the conversation's update, and the
 * tool makes a schedule owned by them that posts to the conversation's Slack channel.
 */

const temporal = useTemporal();
const channel: ReplyChannel = { kind: 'slack', teamId: 'T0CHAT', channelId: 'C0CHAT', threadTs: '1700000000.000100' };
// Far from any test's clock: schedules made directly never fire on their own during a test.
const YEARLY = '0 8 1 1 *';

const approvals: ApprovalRequest[] = [];
const threads: { target: ThreadStart; text: string }[] = [];
const slack: ReplyAdapter = {
  status: async () => undefined,
  answer: async () => undefined,
  async requestApproval(_channel, request) {
    approvals.push(request);
  },
  async startThread(target, _key, text) {
    threads.push({ target, text });
    return { kind: 'slack', teamId: 'T0CHAT', channelId: target.kind === 'slack' ? target.channelId : '', ts: `${Date.now() / 1000}` };
  },
};

const person = (name: string) => `U-${name.toUpperCase()}-${crypto.randomUUID().slice(0, 8)}`;

/** A spender who is also a named approver, and the policy that forbids approving one's own spending. */
const SPENDER = person('spender');
const CFO = 'U-CFO';
const expenses: string[] = [];
const submitExpense = defineTool({
  name: 'submit_expense',
  description: 'Submits an expense claim.',
  input: z.object({ description: z.string().describe('What it was for.'), amountEur: z.number().describe('Amount in euros.') }),
  approval: true,
  approvers: [SPENDER, CFO],
  notRequester: true,
  handler: ({ description, amountEur }) => {
    expenses.push(`${amountEur} EUR: ${description}`);
    return { submitted: amountEur };
  },
});

describe.skipIf(noTemporal)('schedules from chat', () => {
  let model: GeminiServer;
  let taskQueue: string;
  let agent: AgentDefinition;
  const made = new Set<string>();

  beforeAll(async () => {
    model = await startGeminiServer({ apiKey: 'test-key', respond: offlineModel });
    taskQueue = temporal.taskQueue('chat-schedules');
    agent = defineAgent({
      name: `planner-${crypto.randomUUID().slice(0, 8)}`,
      instructions: 'Make schedules when asked.',
      tools: [...createScheduleTools({ client: temporal.client, taskQueue }), submitExpense],
      approvalTimeout: '30 seconds',
    });
    await temporal.startWorker({ taskQueue, tools: [], agents: [agent], modelUrl: model.url, replyAdapters: { slack } });
  });
  afterEach(async () => {
    for (const id of made) {
      await temporal.client.schedule
        .getHandle(id)
        .delete()
        .catch((error: unknown) => {
          if (!(error instanceof ScheduleNotFoundError)) throw error;
        });
    }
    made.clear();
  });
  afterAll(async () => {
    await model?.close();
  });

  const chatOf = () => conversationDriver(temporal.client, taskQueue, agent.name, { channel });

  /** The tool result the model was shown for the turn that asked `question`. */
  function toolResultFor(question: string): Record<string, unknown> {
    const request = model.requests.filter((candidate: GeminiRequest) => lastUserText(candidate) === question).at(-1)!;
    return (request.body.contents as Content[]).at(-1)!.parts.find((part) => part.functionResponse)!.functionResponse!.response as Record<
      string,
      unknown
    >;
  }

  async function pendingRequest(chat: ConversationDriver) {
    await expect.poll(async () => (await chat.pendingApprovals()).length, { timeout: 15_000 }).toBe(1);
    return (await chat.pendingApprovals())[0]!;
  }

  /** Made directly through the same function the tool calls, to set a scene quickly. */
  async function madeFor(owner: string, prompt = 'Say hello.') {
    const created = await createChatSchedule(
      { client: temporal.client, taskQueue },
      {
        agent: agent.name,
        owner,
        conversationId: 'test:setup',
        requestKey: crypto.randomUUID(),
        trigger: { cron: YEARLY, prompt, deliver: { kind: 'slack', channel: 'C0CHAT' } },
      },
    );
    made.add(created.id);
    return created;
  }

  /** Temporal's schedule list trails a change by a moment; the bound and list_my_schedules read it. */
  async function listedFor(owner: string, count: number) {
    await expect
      .poll(async () => (await listChatSchedules({ client: temporal.client, taskQueue }, [owner])).length, {
        timeout: 15_000,
        interval: 200,
      })
      .toBe(count);
  }

  it('exists only after the requester approves, belongs to them and posts to the conversation’s channel', async () => {
    const owner = person('asker');
    const chat = chatOf();
    const question = 'remind me every Monday at 9 to file the weekly report here';
    await chat.send(incoming(question, { user: { id: owner } }));
    const request = await pendingRequest(chat);
    expect(request).toMatchObject({
      tool: 'create_schedule',
      args: { cron: '0 9 * * 1', prompt: 'Remind me to file the weekly report.' },
      approvers: [owner],
    });
    // Nobody else may approve it, and until the owner does, the tool has not run.
    await expect(
      sendApproval(temporal.client, chat.conversationId, {
        requestId: request.requestId,
        decision: 'approve',
        approver: person('stranger'),
      }),
    ).rejects.toThrow();
    expect((await summariseHistory(temporal.client.workflow.getHandle(`${chat.conversationId}/turn-1`))).scheduled).not.toContain(
      'tool:create_schedule',
    );
    expect(await listChatSchedules({ client: temporal.client, taskQueue }, [owner])).toEqual([]);

    await sendApproval(temporal.client, chat.conversationId, { requestId: request.requestId, decision: 'approve', approver: owner });
    await chat.waitForTurn(1);
    const { output } = toolResultFor(question) as { output: { created: { id: string } } };
    const id = output.created.id;
    made.add(id);
    expect(id).toMatch(new RegExp(`^ambient:${taskQueue}:${agent.name}:chat-[0-9a-f]{8}$`));

    const description = await temporal.client.schedule.getHandle(id).describe();
    // The memo and the note are shown in clear: the owner appears there only as an opaque key.
    expect(description.memo).toEqual({
      managedBy: 'durable-agents',
      deployment: taskQueue,
      origin: 'chat',
      agent: agent.name,
      trigger: id.split(':')[3],
      ownerKey: ownerKeyOf(taskQueue, owner),
      digest: expect.any(String),
    });
    expect(JSON.stringify(description.memo)).not.toContain(owner);
    expect(description.action).toMatchObject({ workflowType: 'ambientRun', taskQueue });
    expect(description.action.args).toEqual([
      {
        agent: agent.name,
        origin: 'chat',
        owner,
        trigger: {
          id: id.split(':')[3],
          cron: '0 9 * * 1',
          timezone: 'UTC',
          prompt: 'Remind me to file the weekly report.',
          deliver: { kind: 'slack', channel: 'C0CHAT', team: 'T0CHAT' },
          approvers: [owner],
        },
      },
    ]);
    expect(description.state.note).toBe('Asked for in chat; only the person who asked can stop it (delete_schedule).');

    // A firing is an ordinary ambient run, posted as a new thread in the conversation's channel.
    await temporal.client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.SKIP);
    await expect
      .poll(() => threads.find((thread) => thread.text === 'Reminder: file the weekly report.'), { timeout: 20_000 })
      .toMatchObject({ target: { kind: 'slack', channelId: 'C0CHAT' } });
  });

  it('a denial makes none, and the tool never runs', async () => {
    const owner = person('denier');
    const chat = chatOf();
    await chat.send(incoming('every weekday at 8 post the weather alerts for CA here', { user: { id: owner } }));
    const request = await pendingRequest(chat);
    expect(request.args).toEqual({ cron: '0 8 * * 1-5', prompt: 'Post the weather alerts for CA.' });
    await sendApproval(temporal.client, chat.conversationId, { requestId: request.requestId, decision: 'deny', approver: owner });
    await chat.waitForTurn(1);
    expect(toolResultFor('every weekday at 8 post the weather alerts for CA here')).toMatchObject({ error: { type: 'ApprovalDenied' } });
    const run = await summariseHistory(temporal.client.workflow.getHandle(`${chat.conversationId}/turn-1`));
    expect(run.scheduled).not.toContain('tool:create_schedule');
    expect(await listChatSchedules({ client: temporal.client, taskQueue }, [owner])).toEqual([]);
  });

  it("refuses a stranger's stop and keeps the schedule; the owner's stop deletes it", async () => {
    const owner = person('owner');
    const stranger = person('stranger');
    const { id } = await madeFor(owner);

    const theirs = chatOf();
    await theirs.send(incoming(`stop schedule ${id}`, { user: { id: stranger } }));
    await theirs.waitForTurn(1);
    expect(toolResultFor(`stop schedule ${id}`)).toEqual({
      error: {
        type: 'NotYourSchedule',
        message: `Schedule ${id} belongs to someone else; only the person who asked for it can stop it. It was not changed.`,
      },
    });
    await expect(temporal.client.schedule.getHandle(id).describe()).resolves.toMatchObject({
      memo: { ownerKey: ownerKeyOf(taskQueue, owner) },
    });

    const mine = chatOf();
    await mine.send(incoming(`please stop ${id.split(':')[3]}`, { user: { id: owner } }));
    await mine.waitForTurn(1);
    expect(toolResultFor(`please stop ${id.split(':')[3]}`)).toEqual({ output: { deleted: id } });
    await expect(temporal.client.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it(`refuses a person's schedule number ${MAX_SCHEDULES_PER_PERSON + 1}`, async () => {
    const owner = person('busy');
    for (let index = 0; index < MAX_SCHEDULES_PER_PERSON; index += 1) await madeFor(owner, `Task ${index}.`);
    await listedFor(owner, MAX_SCHEDULES_PER_PERSON);

    const chat = chatOf();
    const question = 'every 30 minutes check the handbook for changes';
    await chat.send(incoming(question, { user: { id: owner } }));
    const request = await pendingRequest(chat);
    await sendApproval(temporal.client, chat.conversationId, { requestId: request.requestId, decision: 'approve', approver: owner });
    await chat.waitForTurn(1);
    expect(toolResultFor(question)).toEqual({
      error: {
        type: 'TooManySchedules',
        message: `${owner} already has 10 schedules, the most one person may have (10); stop one first (list_my_schedules shows them).`,
      },
    });
    expect(await listChatSchedules({ client: temporal.client, taskQueue }, [owner])).toHaveLength(MAX_SCHEDULES_PER_PERSON);
  });

  it('a schedule is no way round notRequester: its owner may not approve the calls of its runs', async () => {
    const chat = chatOf();
    const question = 'every Monday at 9 submit an expense claim of 40 eur for the team lunch';
    await chat.send(incoming(question, { user: { id: SPENDER } }));
    // Making a schedule needs only its asker's approval (the default policy): the spender gives it.
    const asked = await pendingRequest(chat);
    expect(asked).toMatchObject({ tool: 'create_schedule', approvers: [SPENDER] });
    await sendApproval(temporal.client, chat.conversationId, { requestId: asked.requestId, decision: 'approve', approver: SPENDER });
    await chat.waitForTurn(1);
    const id = (toolResultFor(question) as { output: { created: { id: string } } }).output.created.id;
    made.add(id);

    // The run it starts asks for the expense as if the spender had asked: only the CFO may decide.
    await temporal.client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.SKIP);
    const request = await expect
      .poll(() => approvals.find((candidate) => candidate.tool === 'submit_expense' && candidate.conversationId.startsWith(id)), {
        timeout: 20_000,
      })
      .toBeDefined()
      .then(() => approvals.find((candidate) => candidate.tool === 'submit_expense' && candidate.conversationId.startsWith(id))!);
    expect(request.approvers).toEqual([CFO]);
    await expect(
      sendApproval(temporal.client, request.conversationId, { requestId: request.requestId, decision: 'approve', approver: SPENDER }),
    ).rejects.toThrow();
    expect(expenses).toEqual([]);
    await sendApproval(temporal.client, request.conversationId, { requestId: request.requestId, decision: 'approve', approver: CFO });
    await expect.poll(() => expenses, { timeout: 20_000 }).toEqual(['40 EUR: Submit an expense claim of 40 eur for the team lunch.']);
  });

  it("a batched turn acts for no one else: a stranger's stop, written while the owner's message waits, is refused", async () => {
    const owner = person('owner');
    const stranger = person('stranger');
    const { id } = await madeFor(owner);
    const chat = chatOf();
    // A turn that waits for a person keeps the next messages queued: they are answered together.
    await chat.send(incoming('every day at 7 post the weather alerts for CA here', { user: { id: owner } }));
    const waiting = await pendingRequest(chat);
    await chat.send(incoming('and my schedules?', { user: { id: owner } }));
    const question = `stop schedule ${id}`;
    await chat.send(incoming(question, { user: { id: stranger } }));
    await sendApproval(temporal.client, chat.conversationId, { requestId: waiting.requestId, decision: 'deny', approver: owner });
    await chat.waitForTurn(2);
    const batched = model.requests
      .filter((candidate: GeminiRequest) => lastUserText(candidate).endsWith(`${stranger}: ${question}`))
      .at(-1)!;
    const result = (batched.body.contents as Content[]).at(-1)!.parts.find((part) => part.functionResponse)!.functionResponse!.response;
    expect(result).toMatchObject({ error: { type: 'SeveralRequesters' } });
    await expect(temporal.client.schedule.getHandle(id).describe()).resolves.toMatchObject({
      memo: { ownerKey: ownerKeyOf(taskQueue, owner) },
    });
  });

  it("lists only the asker's, and 'stop that one' stops the one it listed", async () => {
    const asker = person('lister');
    const other = person('other');
    const own = await madeFor(asker, 'Water the plants.');
    const theirs = await madeFor(other, 'Feed the cat.');
    await listedFor(asker, 1);
    await listedFor(other, 1);

    const chat = chatOf();
    await chat.send(incoming('What are my schedules?', { user: { id: asker } }));
    await chat.waitForTurn(1);
    const { output } = toolResultFor('What are my schedules?') as {
      output: { owners: string[]; count: number; schedules: { id: string; prompt: string }[] };
    };
    expect(output).toMatchObject({ owners: [asker], count: 1, schedules: [{ id: own.id, prompt: 'Water the plants.' }] });

    await chat.send(incoming('stop that one', { user: { id: asker } }));
    await chat.waitForTurn(2);
    expect(toolResultFor('stop that one')).toEqual({ output: { deleted: own.id } });
    await expect(temporal.client.schedule.getHandle(theirs.id).describe()).resolves.toMatchObject({
      memo: { ownerKey: ownerKeyOf(taskQueue, other) },
    });
  });
});
