import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { sendStop } from '../../temporal-client/send-message.ts';
import * as z from 'zod';
import { calculatorTool } from '../../agents/tools/calculator.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import { LOCAL_ACTIVITY_MARKER } from '../../core/local-activity-marker.ts';
import { AGENT_RUN_TASK_TIMEOUT, AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { ModelStepResult } from '../../core/contracts/model.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { createConversationIndex } from '../../store/conversation-index.ts';
import { createLocalRecordFiles } from '../../store/record-files.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { answer, callTools, startScriptedModel, type ScriptStep } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { conversationDriver, incoming } from './conversation-helpers.ts';

const EventType = proto.api.enums.v1.EventType;

/** A side-effecting tool: every run of its handler is counted, so a repeat would show. */
const notes: string[] = [];
const recordNoteTool = defineTool({
  name: 'record_note',
  description: 'Records a note.',
  input: z.object({ text: z.string().describe('The note.') }),
  handler({ text }) {
    notes.push(text);
    return { recorded: text };
  },
});

/** A read-only tool that takes a while, and stops when aborted. */
let slowReads = 0;
const slowReadTool = defineTool({
  name: 'slow_read',
  readOnly: true,
  description: 'Reads something slowly.',
  input: z.object({ key: z.string().describe('What to read.') }),
  async handler({ key }, { signal }) {
    slowReads += 1;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 5_000);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    });
    return { key };
  },
});

/** A read-only tool that fails its first two attempts. */
let flakyAttempts = 0;
const flakyReadTool = defineTool({
  name: 'flaky_read',
  readOnly: true,
  description: 'Reads something, unreliably.',
  input: z.object({ key: z.string().describe('What to read.') }),
  retry: { initialInterval: '10 ms', maximumAttempts: 3 },
  handler({ key }) {
    flakyAttempts += 1;
    if (flakyAttempts < 3) throw new Error('not yet');
    return { key };
  },
});

const agent = defineAgent({
  name: 'read-only-steps',
  instructions: 'Be brief.',
  tools: [calculatorTool, recordNoteTool, slowReadTool, flakyReadTool],
  limits: { maxSteps: 20 },
});

describe.skipIf(noTemporal)('read-only steps', () => {
  const temporal = useTemporal();
  let model: GeminiServer | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  async function run(script: ScriptStep[]) {
    model = await startScriptedModel(script);
    const taskQueue = temporal.taskQueue();
    await temporal.startWorker({ taskQueue, tools: agent.tools, modelUrl: model.url });
    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `test-${crypto.randomUUID()}`,
      workflowTaskTimeout: AGENT_RUN_TASK_TIMEOUT,
      args: [{ spec: compileAgent(agent), prompt: 'Work it out.' }],
    });
    return { handle, model, result: handle.result() as Promise<AgentRunResult> };
  }

  /** The `callModel` markers' results, in order: a read-only step's carries its tools' results. */
  function modelMarkers(history: Awaited<ReturnType<typeof summariseHistory>>): ModelStepResult[] {
    return history.events
      .map((event) => event.markerRecordedEventAttributes)
      .filter((marker) => marker?.markerName === LOCAL_ACTIVITY_MARKER && marker.details?.result)
      .map((marker) => JSON.parse(new TextDecoder().decode(marker!.details!.result!.payloads![0]!.data!)) as ModelStepResult)
      .filter((value) => Array.isArray(value.calls));
  }

  it("runs a read-only step in its model call, no activity task: the tools' results are in its marker; a side-effecting tool stays an activity", async () => {
    const { handle, result } = await run([
      callTools({ name: 'calculate', args: { expression: '6 * 7' } }, { name: 'calculate', args: { expression: '1 + 1' } }),
      callTools({ name: 'record_note', args: { text: 'forty-two' } }),
      // A step mixing both kinds is not read-only: both of its calls are activities.
      callTools({ name: 'calculate', args: { expression: '2 * 2' } }, { name: 'record_note', args: { text: 'four' } }),
      answer('42, noted.'),
    ]);
    expect(await result).toMatchObject({ answer: '42, noted.', stopReason: 'answer', steps: 4, toolCalls: 5 });

    const history = await summariseHistory(handle);
    const activityTasks = history.events
      .filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name);
    // Step 1's two calculations scheduled no activity task; step 3's one did, beside its note.
    expect(activityTasks).toEqual(['appendToTranscript', 'tool:record_note', 'tool:calculate', 'tool:record_note']);
    // Step 1 is one local activity: the model call ran its two calculations itself.
    expect(history.local).toEqual(['callModel', 'callModel', 'callModel', 'callModel']);

    // The tools' results are in history, in the step's marker: references to the stored outcomes and excerpts, as activities return.
    const [first, second] = modelMarkers(history);
    expect(first!.calls.map((call) => call.args)).toEqual([{ expression: '6 * 7' }, { expression: '1 + 1' }]);
    expect(first!.toolResults).toHaveLength(2);
    expect(first!.toolResults![0]).toMatchObject({
      name: 'calculate',
      ok: true,
      resultRef: expect.stringMatching(/^sha256:/),
      excerpt: expect.stringContaining('42'),
    });
    expect(first!.toolResults![0]!.bytes).toBeLessThan(200);
    expect(first!.toolResults![1]!.excerpt).toContain('2');
    // The side-effecting step's model call ran nothing itself.
    expect(second!.toolResults).toBeUndefined();
    expect(notes.filter((note) => note === 'forty-two')).toHaveLength(1);
  });

  it('hands a read-only call that failed inside the model call back to the run, which runs it as a local activity with its retries', async () => {
    flakyAttempts = 0;
    const { handle, result } = await run([callTools({ name: 'flaky_read', args: { key: 'a' } }), answer('Read a.')]);
    expect(await result).toMatchObject({ answer: 'Read a.', steps: 2, toolCalls: 1 });
    // Once in the model call (failed), then as its own local activity: failed once more, then read.
    expect(flakyAttempts).toBe(3);
    const history = await summariseHistory(handle);
    expect(history.local).toEqual(['callModel', 'tool:flaky_read', 'callModel']);
    expect(modelMarkers(history)[0]!.toolResults).toBeUndefined();
    expect(history.events.some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'tool:flaky_read')).toBe(
      false,
    );
  });

  it('hears a stop during a run of read-only steps within 2 s', async () => {
    const steps = Array.from({ length: 19 }, (_, index) => callTools({ name: 'slow_read', args: { key: `k${index}` } }));
    const { handle, result, model } = await run(steps);
    // Step 2's tool is running: the run's workflow task is held open by it.
    await expect.poll(() => model.requests.length, { timeout: 30_000 }).toBe(2);
    await expect.poll(() => slowReads, { timeout: 5_000 }).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stoppedAt = Date.now();
    await handle.cancel();
    await expect(result).rejects.toThrow();
    const took = Date.now() - stoppedAt;
    expect(took).toBeLessThan(2_000);

    const history = await summariseHistory(handle);
    // Every slow read ran inside its model call: step 1's result is in its marker, and none was an activity task.
    expect(modelMarkers(history)[0]!.toolResults).toMatchObject([{ name: 'slow_read', ok: true }]);
    expect(history.scheduled.filter((type) => type === 'tool:slow_read')).toEqual([]);
    expect(history.events.some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'tool:slow_read')).toBe(false);
    expect(history.events.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
  });

  it("hears a person's stop of a conversation's turn in a read-only step within 2 s (the turn's run has the short task timeout)", async () => {
    model = await startScriptedModel(
      Array.from({ length: 19 }, (_, index) => callTools({ name: 'slow_read', args: { key: `c${index}` } })),
    );
    const taskQueue = temporal.taskQueue('read-only-chat');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [agent],
      modelUrl: model.url,
      conversationIndex: createConversationIndex(createLocalRecordFiles({ directory: mkdtempSync(join(tmpdir(), 'conversations-')) })),
    });
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    const readsBefore = slowReads;
    await chat.send(incoming('read it all'));
    // Step 2's read is running.
    await expect.poll(() => slowReads, { timeout: 30_000 }).toBe(readsBefore + 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await sendStop(temporal.client, chat.conversationId, { by: 'U-ASKER' })).toEqual({ stopped: true, turn: 1 });
    await chat.waitForTurn(1, 'stopped');

    // Measured by the server: from the run's cancel request to its end.
    const run = await summariseHistory(temporal.client.workflow.getHandle(`${chat.conversationId}/turn-1`));
    const at = (type: number) => run.events.find((event) => event.eventType === type);
    const requested = at(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)!;
    const cancelled = at(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED)!;
    expect(millis(cancelled) - millis(requested)).toBeLessThan(2_000);
    expect(run.events.some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'tool:slow_read')).toBe(false);
    expect(run.local).toContain('tool:slow_read');
  });
});

function millis(event: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }): number {
  return Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
}
