import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { Content } from '../../core/spec.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { calculatorTool } from '../../agents/tools/calculator.ts';
import { currentTimeTool } from '../../agents/tools/current-time.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { localActivityOf } from '../../core/local-activity-marker.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { answer, callTools, failWith, startScriptedModel, type ScriptStep } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const slowTool = defineTool({
  name: 'slow_lookup',
  description: 'Takes a while.',
  input: z.object({ key: z.string().describe('What to look up.') }),
  async handler({ key }, { signal }) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 300);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    });
    return { key, value: key.toUpperCase() };
  },
});

const assistant = defineAgent({
  name: 'test-assistant',
  instructions: 'Be brief.',
  tools: [currentTimeTool, calculatorTool, slowTool],
  limits: { maxSteps: 4 },
});

describe.skipIf(noTemporal)('agent run workflow', () => {
  const temporal = useTemporal();
  let model: GeminiServer | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  async function run(script: ScriptStep[], prompt = 'What time is it in Tokyo?', agent = assistant) {
    model = await startScriptedModel(script);
    const taskQueue = temporal.taskQueue();
    await temporal.startWorker({ taskQueue, tools: agent.tools, modelUrl: model.url });
    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `test-${crypto.randomUUID()}`,
      args: [{ spec: compileAgent(agent), prompt }],
    });
    return { handle, model, result: handle.result() as Promise<AgentRunResult> };
  }

  it('answers after a tool call, with one model call per step and one tool call per call', async () => {
    const { handle, result, model } = await run([
      callTools({ name: 'get_current_time', args: { timezone: 'Asia/Tokyo' } }),
      answer('It is evening in Tokyo.'),
    ]);
    const output = await result;
    expect(output).toMatchObject({ answer: 'It is evening in Tokyo.', stopReason: 'answer', steps: 2, toolCalls: 1 });
    expect(output.usage.totalTokens).toBeGreaterThan(0);

    const history = await summariseHistory(handle);
    expect(history.scheduled).toEqual(['appendToTranscript', 'callModel', 'callModel']);
    expect(history.completed).toEqual({ appendToTranscript: 1, callModel: 2 });
    // Model calls run as local activities (markers in history); a read-only tool runs inside its step's model call (side-effecting ones stay activities: test/workflow/read-only-steps.test.ts).
    expect(history.local).toEqual(['callModel', 'callModel']);

    // The second model call saw the tool's result as a function response.
    const contents = model.requests[1]!.body.contents as Content[];
    const response = contents.at(-1)!.parts[0]!.functionResponse!;
    expect(response.name).toBe('get_current_time');
    expect((response.response.output as { timezone: string }).timezone).toBe('Asia/Tokyo');
    expect(model.requests[0]!.body.systemInstruction?.parts?.[0]?.text).toBe('Be brief.');
    expect(model.requests[0]!.body.tools?.[0]?.functionDeclarations?.map((d) => d.name)).toEqual([
      'get_current_time',
      'calculate',
      'slow_lookup',
    ]);
  });

  it('runs several function calls of one response as parallel activities', async () => {
    const { handle, result } = await run([
      callTools(
        { name: 'slow_lookup', args: { key: 'a' } },
        { name: 'slow_lookup', args: { key: 'b' } },
        { name: 'slow_lookup', args: { key: 'c' } },
      ),
      answer('A, B and C.'),
    ]);
    expect((await result).toolCalls).toBe(3);
    const history = await summariseHistory(handle);
    const scheduledIds = history.events
      .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'tool:slow_lookup')
      .map((event) => Number(event.eventId));
    const firstCompletion = history.events.find((event) =>
      scheduledIds.includes(Number(event.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1)),
    )!;
    // All three are scheduled before the first activity completes: one workflow task scheduled them.
    expect(scheduledIds).toHaveLength(3);
    expect(Math.max(...scheduledIds)).toBeLessThan(Number(firstCompletion.eventId));
  });

  it('gives arguments that fail the schema back to the model as an error it can correct', async () => {
    const { handle, result, model } = await run(
      [callTools({ name: 'calculate', args: { expr: '2+2' } }), callTools({ name: 'calculate', args: { expression: '2+2' } }), answer('4')],
      'What is 2+2?',
    );
    expect(await result).toMatchObject({ answer: '4', steps: 3 });
    const firstResult = (model.requests[1]!.body.contents as Content[]).at(-1)!.parts[0]!.functionResponse!.response;
    expect(firstResult).toMatchObject({ error: { type: 'InvalidArguments' } });
    expect(JSON.stringify(firstResult)).toContain('expression');
    const secondResult = (model.requests[2]!.body.contents as Content[]).at(-1)!.parts[0]!.functionResponse!.response;
    expect(secondResult).toEqual({ output: { expression: '2+2', value: 4 } });
    expect((await summariseHistory(handle)).failedAttempts).toBe(0);
  });

  it('tells the model about unknown tools and tool input errors without failing the run', async () => {
    const { result, model } = await run([
      callTools({ name: 'launch_rockets', args: {} }, { name: 'get_current_time', args: { timezone: 'Mars/Olympus' } }),
      answer('I cannot do either.'),
    ]);
    expect((await result).stopReason).toBe('answer');
    const parts = (model.requests[1]!.body.contents as Content[]).at(-1)!.parts;
    expect(parts[0]!.functionResponse!.response).toMatchObject({ error: { type: 'UnknownTool' } });
    expect(parts[1]!.functionResponse!.response).toMatchObject({ error: { type: 'UnknownTimeZone' } });
  });

  it('fails at once, without retrying, when the provider rejects the request (400)', async () => {
    const { result, model } = await run([failWith(400, 'Invalid JSON schema for function parameters.')]);
    const error = await result.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (error as WorkflowFailedError).cause as ActivityFailure;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    const cause = activityFailure.cause as ApplicationFailure;
    expect(cause.type).toBe('ModelInvalidRequest');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain('Invalid JSON schema');
    expect(model.requests).toHaveLength(1);
  });

  it('waits for Retry-After on 429, then succeeds', async () => {
    const { handle, result, model } = await run([failWith(429, 'Resource has been exhausted.', { 'retry-after': '2' }), answer('Done.')]);
    expect((await result).answer).toBe('Done.');
    expect(model.requests).toHaveLength(2);
    const history = await summariseHistory(handle);
    // The model call is a local activity: its marker records the attempt that succeeded and when the first was scheduled.
    const marker = history.events.find((event) => localActivityOf(event)?.activityType === 'callModel')!;
    expect(localActivityOf(marker)!.attempt).toBe(2);
    // The retry came after the provider's delay (2 s), not the policy's first backoff (1 s):
    // the first attempt started after the transcript was written, and the second finished before its marker.
    const transcriptWritten = history.events.find((event) => event.activityTaskCompletedEventAttributes)!;
    expect(millis(marker) - millis(transcriptWritten)).toBeGreaterThanOrEqual(2_000);
  });

  it('retries 5xx with backoff', async () => {
    const { result, model } = await run([
      failWith(503, 'The model is overloaded.'),
      failWith(500, 'Internal error.'),
      answer('Recovered.'),
    ]);
    expect((await result).answer).toBe('Recovered.');
    expect(model.requests).toHaveLength(3);
  });

  it('stops at the step limit with an answer that says so', async () => {
    const loop = callTools({ name: 'calculate', args: { expression: '1+1' } });
    const { handle, result } = await run([loop, loop, loop, loop, loop, loop]);
    const output = await result;
    expect(output.stopReason).toBe('max_steps');
    expect(output.steps).toBe(4);
    expect(output.answer).toMatch(/step limit/);
    expect((await summariseHistory(handle)).completed.callModel).toBe(4);
  });

  it('cancelling a run aborts the model call in flight', async () => {
    const { handle, result, model } = await run([{ ...answer('too late'), delayMs: 20_000 }]);
    await expect.poll(() => model.requests.length, { timeout: 10_000 }).toBe(1);
    await handle.cancel();
    await expect(result).rejects.toThrow();
    await expect.poll(() => model.abortedCount, { timeout: 15_000 }).toBe(1);
  });
});

function millis(event: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }): number {
  return Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
}
