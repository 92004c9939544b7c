import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sendStop } from '../../temporal-client/send-message.ts';
import { CURRENT_STEP_QUERY, type CurrentStep } from '../../core/conversation.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import type { Content } from '../../core/spec.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import { calculatorTool } from '../../agents/tools/calculator.ts';
import { createConversationIndex } from '../../store/conversation-index.ts';
import { createLocalRecordFiles } from '../../store/record-files.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { conversationDriver, incoming, lastUserText, userTexts } from './conversation-helpers.ts';

const EventType = proto.api.enums.v1.EventType;

const toolState = { started: 0, aborted: 0 };
const waitForever = defineTool({
  name: 'wait_for_rollout',
  description: 'Waits until a rollout finishes.',
  input: z.object({ rollout: z.string().describe('Rollout id.') }),
  timeout: '1 minute',
  async handler(_args, { signal }) {
    toolState.started += 1;
    await new Promise((_resolve, reject) =>
      signal.addEventListener('abort', () => {
        toolState.aborted += 1;
        reject(new Error('aborted'));
      }),
    );
  },
});

const agent = defineAgent({ name: 'chat-test', instructions: 'Be brief.', tools: [calculatorTool, waitForever], limits: { maxSteps: 5 } });

/** Answers by question: arithmetic goes through the calculator; "slow" questions take a while; "rollout" blocks in a tool. */
function respond(request: GeminiRequest) {
  const contents = request.body.contents as Content[];
  const last = contents.at(-1)!;
  const response = last.parts.find((part) => part.functionResponse)?.functionResponse;
  if (response) return answer(`The calculator says ${JSON.stringify((response.response.output as { value?: number })?.value)}.`);
  const question = lastUserText(request);
  if (question.includes('2+2')) return callTools({ name: 'calculate', args: { expression: '2+2' } });
  if (question.includes('rollout')) return callTools({ name: 'wait_for_rollout', args: { rollout: 'r-1' } });
  if (question.includes('slow')) return { ...answer(`Slowly: ${question}`), delayMs: 1_500 };
  return answer(`You said: ${question}`);
}

describe.skipIf(noTemporal)('conversation workflow', () => {
  const temporal = useTemporal();
  let model: GeminiServer;
  let taskQueue: string;
  beforeAll(async () => {
    model = await startScriptedModel(respond);
    taskQueue = temporal.taskQueue('conversation');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [agent],
      modelUrl: model.url,
      conversationIndex: createConversationIndex(createLocalRecordFiles({ directory: mkdtempSync(join(tmpdir(), 'conversations-')) })),
    });
  });
  afterAll(async () => {
    await model?.close();
  });

  const requestsFor = (text: string) => model.requests.filter((request) => lastUserText(request) === text);

  it('runs one turn per message as a child run; the second turn sees the first in its transcript', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    expect(await chat.send(incoming('What is 2+2?'))).toEqual({ duplicate: false, turn: 1 });
    expect((await chat.waitForTurn(1)).answerExcerpt).toBe('The calculator says 4.');
    expect(await chat.send(incoming('And doubled?'))).toEqual({ duplicate: false, turn: 2 });
    const second = await chat.waitForTurn(2);
    expect(second.answerExcerpt).toBe('You said: And doubled?');
    expect(second.runWorkflowId).toBe(`${chat.conversationId}/turn-2`);

    const [request] = requestsFor('And doubled?');
    expect(userTexts(request!)).toEqual(['What is 2+2?', 'And doubled?']);
    expect(JSON.stringify(request!.body.contents)).toContain('The calculator says 4.');

    // The turn is saved for a later resume right after its answer is posted.
    await expect.poll(async () => (await summariseHistory(chat.handle)).completed['conversation:save'], { timeout: 10_000 }).toBe(2);
    const history = await summariseHistory(chat.handle);
    const children = history.events.filter((event) => event.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED);
    expect(children.map((event) => event.startChildWorkflowExecutionInitiatedEventAttributes!.workflowType!.name)).toEqual([
      'agentRun',
      'agentRun',
    ]);
    expect(history.completed.resolveAgent).toBe(2);
    // The reply channel is shown which tool runs, between "thinking" and "done".
    const statuses = history.events
      .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'reply:status')
      .map(
        (event) =>
          JSON.parse(new TextDecoder().decode(event.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!)) as {
            key: string;
            status: { state: string; tool?: string; output?: { ok: boolean; text: string } };
          },
      )
      .filter(({ key }) => key.endsWith('#1'));
    const shown = statuses
      .map(({ status }) => (status.tool ? `${status.state}:${status.tool}` : status.state))
      // The second step's "thinking" shows only if the mirror catches it before the turn ends;
      // the tool shows running, then finished with its output (the two may coalesce into the second).
      .filter((status, index, all) => !(status === 'thinking' && index > 0) && !(status.startsWith('tool:') && all[index - 1] === status));
    expect(shown).toEqual(['thinking', 'tool:calculate', 'done']);
    expect(statuses.filter(({ status }) => status.state === 'tool').at(-1)?.status.output).toMatchObject({ ok: true });
    expect(await chat.handle.query<CurrentStep>(CURRENT_STEP_QUERY)).toEqual({ state: 'idle', turn: 2, queued: 0 });
  });

  it('answers a message delivered three times once', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    const message = incoming('triple delivery');
    const outcomes = await Promise.all([chat.send(message), chat.send(message), chat.send(message)]);
    for (const outcome of outcomes) expect(outcome.turn).toBe(1);
    await chat.waitForTurn(1);
    await chat.send(incoming('next')).then((accepted) => expect(accepted.turn).toBe(2));
    await chat.waitForTurn(2);
    expect((await chat.turns()).map((turn) => turn.messageIds.length)).toEqual([1, 1]);
    expect(requestsFor('triple delivery')).toHaveLength(1);
    const history = await summariseHistory(chat.handle);
    const accepted = history.events.filter(
      (event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId === message.id,
    );
    expect(accepted).toHaveLength(1);
  });

  it('still answers a redelivered message once after the conversation continued as new', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name, { options: { maxHistoryEvents: 1 } });
    const message = incoming('before the continue-as-new');
    expect(await chat.send(message)).toEqual({ duplicate: false, turn: 1 });
    await chat.waitForTurn(1);
    // The run that answered turn 1 is the parent its child names (by now it may have continued as new).
    const child = await temporal.client.workflow.getHandle(`${chat.conversationId}/turn-1`).fetchHistory();
    const firstRun = child.events![0]!.workflowExecutionStartedEventAttributes!.parentWorkflowExecution!.runId!;
    await expect.poll(async () => (await chat.handle.describe()).runId, { timeout: 10_000 }).not.toBe(firstRun);
    const firstRunHandle = temporal.client.workflow.getHandle(chat.conversationId, firstRun);
    expect((await firstRunHandle.describe()).status.name).toBe('CONTINUED_AS_NEW');

    // Temporal's own dedupe of update ids ends with the run; the carried ids answer instead.
    expect(await chat.send(message)).toEqual({ duplicate: true, turn: 1 });
    expect(await chat.send(message)).toEqual({ duplicate: true, turn: 1 });
    expect(await chat.send(incoming('after'))).toEqual({ duplicate: false, turn: 2 });
    await chat.waitForTurn(2);
    expect(requestsFor('before the continue-as-new')).toHaveLength(1);
    expect((await chat.turns()).map((turn) => [turn.turn, turn.status])).toEqual([
      [1, 'answered'],
      [2, 'answered'],
    ]);
    // The transcript head travelled too: turn 2's model call saw turn 1.
    expect(userTexts(requestsFor('after')[0]!)).toEqual(['before the continue-as-new', 'after']);
  });

  it('queues a message that arrives during a turn and answers it after', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    await chat.send(incoming('a slow question'));
    await expect.poll(() => requestsFor('a slow question').length, { timeout: 10_000 }).toBe(1);
    expect(await chat.send(incoming('a quick one'))).toEqual({ duplicate: false, turn: 2 });
    expect(await chat.handle.query<CurrentStep>(CURRENT_STEP_QUERY)).toMatchObject({ state: 'thinking', turn: 1, step: 1, queued: 1 });
    const [first, second] = [await chat.waitForTurn(1), await chat.waitForTurn(2)];
    expect(Date.parse(second.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first.finishedAt!));
    // The queued message was answered with the first answer already in its transcript.
    expect(JSON.stringify(requestsFor('a quick one')[0]!.body.contents)).toContain('Slowly: a slow question');
  });

  it('stops a turn: the child run and its tool activity are cancelled, and the next turn works', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    const abortedBefore = toolState.aborted;
    await chat.send(incoming('watch the rollout'));
    await expect.poll(async () => (await chat.handle.query<CurrentStep>(CURRENT_STEP_QUERY)).state, { timeout: 10_000 }).toBe('tool');
    await expect.poll(() => toolState.started, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await sendStop(temporal.client, chat.conversationId, { by: 'U-ASKER' })).toEqual({ stopped: true, turn: 1 });
    expect((await chat.waitForTurn(1, 'stopped')).answerExcerpt).toBe('(Stopped by U-ASKER before answering.)');
    expect(toolState.aborted).toBe(abortedBefore + 1);

    const run = await summariseHistory(temporal.client.workflow.getHandle(`${chat.conversationId}/turn-1`));
    const types = run.events.map((event) => event.eventType);
    expect(types).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
    expect(types).toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
    const cancelled = run.events.find((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED)!;
    const scheduled = run.events.find(
      (event) => String(event.eventId) === String(cancelled.activityTaskCanceledEventAttributes!.scheduledEventId),
    )!;
    expect(scheduled.activityTaskScheduledEventAttributes!.activityType!.name).toBe('tool:wait_for_rollout');
    expect(types.at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
    // A turn reports its progress, so its model calls stay activities: a local call would hold back the "thinking" signal.
    expect(run.scheduled).toContain('callModel');
    expect(run.local).toEqual([]);
    const conversationHistory = await summariseHistory(chat.handle);
    expect(conversationHistory.events.map((event) => event.eventType)).toContain(EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED);

    expect(await sendStop(temporal.client, chat.conversationId)).toEqual({ stopped: false });
    await chat.send(incoming('are you there?'));
    expect((await chat.waitForTurn(2)).answerExcerpt).toBe('You said: are you there?');
    // The stopped question and a note of the stop are in the transcript, in order.
    const contents = requestsFor('are you there?')[0]!.body.contents as Content[];
    expect(contents.map((content) => [content.role, content.parts.map((part) => part.text ?? '').join('')])).toEqual([
      ['user', 'watch the rollout'],
      ['model', '(Stopped by U-ASKER before answering.)'],
      ['user', 'are you there?'],
    ]);
  });

  it('completes when idle; the next message opens a new run that finds the transcript and the seen ids', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name, { options: { idleTimeout: '1 second' } });
    const first = incoming('remember the number 7');
    await chat.send(first);
    await chat.waitForTurn(1);
    const child = await temporal.client.workflow.getHandle(`${chat.conversationId}/turn-1`).fetchHistory();
    const firstRun = child.events![0]!.workflowExecutionStartedEventAttributes!.parentWorkflowExecution!.runId!;
    const closed = await temporal.client.workflow.getHandle(chat.conversationId, firstRun).result();
    expect(closed).toMatchObject({ closedBy: 'idle', turns: 1 });

    expect(await chat.send(incoming('what number?'))).toEqual({ duplicate: false, turn: 2 });
    expect((await chat.handle.describe()).runId).not.toBe(firstRun);
    await chat.waitForTurn(2);
    expect(userTexts(requestsFor('what number?')[0]!)).toEqual(['remember the number 7', 'what number?']);
    expect(await chat.send(first)).toEqual({ duplicate: true, turn: 1 });
  });
});
