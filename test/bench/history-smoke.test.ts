import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { measureChain } from '../../bench/history-chain.ts';
import { createNaiveActivities } from '../../bench/naive/activities.ts';
import type { NaiveLoopInput, NaiveLoopResult } from '../../bench/naive/workflows.ts';
import { createLoopTool, loopAgentSpec, loopPrompt, loopResponder } from '../../bench/scripted-loop.ts';
import { startGeminiServer, type GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';

const STEPS = 5;
const NAIVE_WORKFLOWS = fileURLToPath(new URL('../../bench/naive/workflows.ts', import.meta.url));

/** The history benchmark in small: both loops at 5 steps of 20 KB tool results. */
describe.skipIf(noTemporal)('history benchmark, 5 steps', () => {
  const temporal = useTemporal();
  const tool = createLoopTool(20 * 1024);
  const spec = loopAgentSpec(tool, STEPS + 2);
  let model: GeminiServer | undefined;
  afterAll(async () => {
    await model?.close();
  });

  it('keeps ours small and constant per step while the naive loop carries every result', async () => {
    model = await startGeminiServer({ apiKey: 'test-key', respond: loopResponder() });
    const taskQueue = temporal.taskQueue('bench-smoke');
    await temporal.startWorker({ taskQueue, tools: [tool], modelUrl: model.url });
    const naiveQueue = `${taskQueue}-naive`;
    const naiveWorker = await Worker.create({
      connection: temporal.connection,
      taskQueue: naiveQueue,
      workflowsPath: NAIVE_WORKFLOWS,
      activities: { ...createNaiveActivities({ apiKey: 'test-key', baseUrl: model.url, tools: [tool] }) },
    });

    const ours = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `smoke-ours-${crypto.randomUUID()}`,
      args: [{ spec, prompt: loopPrompt(STEPS) }],
    });
    const naiveInput: NaiveLoopInput = { spec, prompt: loopPrompt(STEPS), activityTaskQueue: naiveQueue };
    const run = async (input: NaiveLoopInput, kind: string) => {
      const handle = await temporal.client.workflow.start('naiveAgentLoop', {
        taskQueue: naiveQueue,
        workflowId: `smoke-${kind}-${crypto.randomUUID()}`,
        args: [input],
      });
      return { result: (await handle.result()) as NaiveLoopResult, handle };
    };
    // The overhead part's floor: the same loop with only its model call local.
    const [naiveResult, floor] = await naiveWorker.runUntil(async () => [
      await run(naiveInput, 'naive'),
      await run({ ...naiveInput, localModel: true }, 'floor'),
    ]);

    expect(((await ours.result()) as AgentRunResult).steps).toBe(STEPS);
    expect(naiveResult.result).toMatchObject({ steps: STEPS, toolCalls: STEPS - 1 });
    const oursMeasure = await measureChain(temporal.client, ours.workflowId, ours.firstExecutionRunId);
    const naiveMeasure = await measureChain(temporal.client, naiveResult.handle.workflowId, naiveResult.handle.firstExecutionRunId);
    expect(oursMeasure.completed.callModel).toBe(STEPS);
    expect(naiveMeasure.completed.naiveCallModel).toBe(STEPS);

    const oursPerStep = oursMeasure.totalBytes / STEPS;
    const naivePerStep = naiveMeasure.totalBytes / STEPS;
    expect(oursPerStep).toBeLessThan(4 * 1024);
    // Already at 5 steps the naive loop's history is an order of magnitude larger.
    expect(naivePerStep).toBeGreaterThan(10 * oursPerStep);
    // Ours never puts a tool result in history; the naive loop's last model call carries all four.
    expect(oursMeasure.maxPayloadBytes).toBeLessThan(2 * 1024);
    expect(naiveMeasure.maxPayloadBytes).toBeGreaterThan((STEPS - 1) * 20 * 1024);

    // The floor's model calls are markers, not activities; its tool calls stay activities.
    expect(floor.result).toMatchObject({ steps: STEPS, toolCalls: STEPS - 1 });
    const floorMeasure = await measureChain(temporal.client, floor.handle.workflowId, floor.handle.firstExecutionRunId);
    expect(floorMeasure.completed.naiveCallModel).toBe(STEPS);
    expect(floorMeasure.completed.naiveRunTool).toBe(STEPS - 1);
    const history = await floor.handle.fetchHistory();
    const scheduled = (history.events ?? []).flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(scheduled).toEqual(Array(STEPS - 1).fill('naiveRunTool'));
  });
});
