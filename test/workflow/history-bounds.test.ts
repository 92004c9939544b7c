import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { calculatorTool } from '../../agents/tools/calculator.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { Content } from '../../core/spec.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunInput, AgentRunResult } from '../../workflows/agent-run.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { payloadSizes } from '../../testkit/payloads.ts';
import { answer, callTools, startScriptedModel, type ScriptStep } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const TEN_MB = 10 * 1024 * 1024;

const hugeTool = defineTool({
  name: 'export_logs',
  description: 'Returns a very large log.',
  input: z.object({ service: z.string().describe('Service name.') }),
  handler: ({ service }) => ({ service, log: 'x'.repeat(TEN_MB) }),
});

describe.skipIf(noTemporal)('history stays small', () => {
  const temporal = useTemporal();
  let model: GeminiServer | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  async function start(
    script: ScriptStep[] | Parameters<typeof startScriptedModel>[0],
    input: Omit<AgentRunInput, 'prompt'> & { prompt?: string },
    workerOptions = {},
  ) {
    model = await startScriptedModel(script);
    const taskQueue = temporal.taskQueue();
    await temporal.startWorker({
      taskQueue,
      tools: input.spec.tools.length ? toolsOf(input.spec.name) : [],
      modelUrl: model.url,
      ...workerOptions,
    });
    return temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `bounds-${crypto.randomUUID()}`,
      args: [{ prompt: 'go', ...input }],
    });
  }

  const agents = {
    huge: defineAgent({ name: 'huge', instructions: 'Read logs.', tools: [hugeTool] }),
    counter: defineAgent({
      name: 'counter',
      instructions: 'Count.',
      tools: [calculatorTool],
      limits: { maxSteps: 2_000, maxTokens: 1e12, maxDuration: '1 hour' },
    }),
    thrifty: defineAgent({ name: 'thrifty', instructions: 'Count.', tools: [calculatorTool], limits: { maxTokens: 1_000 } }),
    hasty: defineAgent({ name: 'hasty', instructions: 'Count.', tools: [calculatorTool], limits: { maxDuration: '2 seconds' } }),
  };
  const toolsOf = (name: string) => agents[name as keyof typeof agents].tools;

  it('keeps every payload under 64 KB when a tool returns 10 MB, and shows the model a bounded excerpt', async () => {
    const handle = await start([callTools({ name: 'export_logs', args: { service: 'api' } }), answer('The log is mostly x.')], {
      spec: compileAgent(agents.huge),
    });
    const result = (await handle.result()) as AgentRunResult;
    expect(result.answer).toBe('The log is mostly x.');

    const sizes = payloadSizes((await summariseHistory(handle)).events);
    expect(Math.max(...sizes)).toBeLessThan(64 * 1024);

    const toolResponse = (model!.requests[1]!.body.contents as Content[]).at(-1)!.parts[0]!.functionResponse!.response;
    const output = toolResponse.output as { truncated: boolean; totalBytes: number; note: string; ref: string };
    expect(output.truncated).toBe(true);
    expect(output.totalBytes).toBeGreaterThan(TEN_MB);
    expect(output.note).toMatch(/cut/i);
    expect(JSON.stringify(toolResponse).length).toBeLessThan(40 * 1024);
    // The whole result is kept in the store.
    const stored = (await temporal.store.get(output.ref)) as { ok: true; result: { log: string } };
    expect(stored.result.log.length).toBe(TEN_MB);
  });

  it('completes a 1,000-step run across continue-as-new, with no step lost or repeated', { timeout: 600_000 }, async () => {
    const STEPS = 1_000;
    const handle = await start(
      (request) =>
        request.index < STEPS - 1
          ? callTools({ name: 'calculate', args: { expression: `${request.index}+1` } })
          : answer('Counted to a thousand.'),
      // One marker a step (the model call's, which ran the read-only calculator too; one workflow task across many steps): three or more runs.
      { spec: compileAgent(agents.counter), continueAsNew: { maxHistoryEvents: 300 } },
    );
    const result = (await handle.result()) as AgentRunResult;
    expect(result).toMatchObject({ answer: 'Counted to a thousand.', stopReason: 'answer', steps: STEPS, toolCalls: STEPS - 1 });
    expect(result.continuedCount).toBeGreaterThanOrEqual(3);
    expect(model!.requests).toHaveLength(STEPS);

    // Each step saw the previous step's tool result: nothing lost at a continue-as-new boundary.
    for (const request of model!.requests.slice(1)) {
      const last = (request.body.contents as Content[]).at(-1)!.parts[0]!.functionResponse!.response;
      expect((last.output as { value: number }).value).toBe(request.index);
    }
    const sizes = payloadSizes((await summariseHistory(handle)).events);
    expect(Math.max(...sizes)).toBeLessThan(64 * 1024);
  });

  it('ends the run at the token budget with an answer that names it', async () => {
    const loop = { ...callTools({ name: 'calculate', args: { expression: '1+1' } }), usage: { promptTokens: 300, outputTokens: 100 } };
    const handle = await start([loop, loop, loop, loop, loop], { spec: compileAgent(agents.thrifty) });
    const result = (await handle.result()) as AgentRunResult;
    expect(result.stopReason).toBe('max_tokens');
    expect(result.steps).toBe(3);
    expect(result.usage.totalTokens).toBe(1_200);
    expect(result.answer).toMatch(/1200 tokens.*limit of 1000/);
  });

  it('ends the run at its wall-time budget, even in the middle of a model call', async () => {
    const handle = await start([{ ...answer('too slow'), delayMs: 30_000 }], { spec: compileAgent(agents.hasty) });
    const result = (await handle.result()) as AgentRunResult;
    expect(result.stopReason).toBe('max_duration');
    expect(result.answer).toMatch(/time limit of 2 seconds/);
  });

  it('caps model calls per second across the fleet: each of its workers takes its share', async () => {
    const loop = callTools({ name: 'calculate', args: { expression: '1+1' } });
    const started = Date.now();
    // Four a second over a fleet of at most two workers: two a second in this one.
    const handle = await start(
      [loop, loop, loop, loop, loop, answer('done')],
      { spec: compileAgent(agents.counter) },
      { modelCallsPerSecond: 4, maxWorkers: 2 },
    );
    await handle.result();
    // Six calls at two a second cannot finish in under 2 s (a lower bound: it does not flake on a slow machine).
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(model!.requests).toHaveLength(6);
  });

  it('runs model calls in the worker of their workflow with the model queue set to the main one, still spaced by the per-process limit', async () => {
    const loop = callTools({ name: 'calculate', args: { expression: '1+1' } });
    model = await startScriptedModel([loop, loop, loop, loop, loop, answer('done')]);
    const taskQueue = temporal.taskQueue();
    await temporal.startWorker({
      taskQueue,
      tools: agents.counter.tools,
      modelUrl: model.url,
      modelTaskQueue: taskQueue,
      modelCallsPerSecondPerWorker: 2,
    });
    const started = Date.now();
    const handle = await temporal.client.workflow.start('agentRun', {
      taskQueue,
      workflowId: `bounds-${crypto.randomUUID()}`,
      args: [{ prompt: 'go', spec: compileAgent(agents.counter), modelTaskQueue: taskQueue } satisfies AgentRunInput],
    });
    const result = (await handle.result()) as AgentRunResult;
    expect(result).toMatchObject({ answer: 'done', steps: 6 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    // Local activities of the workflow's worker: no task queue in between (the read-only calculator runs inside each model call).
    expect((await summariseHistory(handle)).local).toEqual(Array.from({ length: 6 }, () => 'callModel'));
  });

  it('refuses a fleet-wide model limit without the size of the fleet, which each worker takes its share of', async () => {
    const taskQueue = temporal.taskQueue();
    await expect(temporal.startWorker({ taskQueue, tools: [], modelUrl: 'http://127.0.0.1:1', modelCallsPerSecond: 2 })).rejects.toThrow(
      /maxWorkers/,
    );
  });
});
