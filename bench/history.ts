import { loadavg } from 'node:os';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { AgentRunInput } from '../workflows/agent-run.ts';
import { measureChain, type ChainMeasure } from './history-chain.ts';
import { startBenchEnvironment, startBenchWorkers } from './harness.ts';
import type { NaiveLoopInput } from './naive/workflows.ts';
import { check, formatBytes, round, table } from './report.ts';
import { createLoopTool, loopAgentSpec, loopPrompt, loopResponder } from './scripted-loop.ts';
import { AGENT_RUN_WORKFLOW } from '../core/run-events.ts';

export interface HistoryOptions {
  /** Model calls per run. @default [10, 50, 100, 500] */
  counts?: number[];
  /** Size of each tool result's JSON. @default 20 KiB */
  toolResultBytes?: number;
  /** A run whose history has not grown for this long is terminated and recorded as failed. @default 60_000 */
  stallMs?: number;
  log?: (line: string) => void;
}

export interface HistoryEntry {
  steps: number;
  /** Model calls that completed (the run's steps when it finished). */
  steps_completed: number;
  history_bytes_per_step: number;
  events_per_step: number;
  total_bytes: number;
  events: number;
  max_payload_bytes: number;
  continued_as_new: number;
  runs: number;
  seconds: number;
  failed_at_step?: number;
  failure?: string;
}

type Loop = 'ours' | 'naive';
const TARGET_BYTES_PER_STEP = 4 * 1024;
const TARGET_RATIO_AT_50 = 20;

/** History bytes and events per step of `agentRun` and of the naive loop, at each step count. */
export async function runHistory(options: HistoryOptions = {}) {
  const counts = options.counts ?? [10, 50, 100, 500];
  const log = options.log ?? (() => undefined);
  const tool = createLoopTool(options.toolResultBytes ?? 20 * 1024);
  const environment = await startBenchEnvironment(loopResponder());
  const workers = await startBenchWorkers(environment, [tool]);
  const results: Record<Loop, Record<string, HistoryEntry>> = { ours: {}, naive: {} };
  const loadBefore = loadavg();
  try {
    for (const steps of counts) {
      const spec = loopAgentSpec(tool, steps + 5);
      const prompt = loopPrompt(steps);
      const oursInput: AgentRunInput = { spec, prompt };
      log(`history: ours, ${steps} steps`);
      const ours = await runToEnd(environment.client, AGENT_RUN_WORKFLOW, [oursInput], workers.taskQueue, options.stallMs);
      results.ours[steps] = entry(steps, ours.measure, 'callModel', ours.seconds);
      const naiveInput: NaiveLoopInput = { spec, prompt, activityTaskQueue: workers.naiveTaskQueue };
      log(`history: naive, ${steps} steps`);
      const naive = await runToEnd(environment.client, 'naiveAgentLoop', [naiveInput], workers.taskQueue, options.stallMs);
      results.naive[steps] = entry(steps, naive.measure, 'naiveCallModel', naive.seconds);
    }
  } finally {
    await workers.stop();
    await environment.close();
  }
  const summary = summarise(counts, results, options.toolResultBytes ?? 20 * 1024);
  return {
    ...summary,
    section: {
      ...summary.section,
      load_average: { before: loadBefore.map((value) => round(value, 2)), after: loadavg().map((value) => round(value, 2)) },
    },
  };
}

async function runToEnd(client: Client, workflowType: string, args: unknown[], taskQueue: string, stallMs = 60_000) {
  const workflowId = `history-${workflowType}-${crypto.randomUUID()}`;
  const started = performance.now();
  const handle = await client.workflow.start(workflowType, { taskQueue, workflowId, args });
  await settled(handle as WorkflowHandle, stallMs);
  const seconds = (performance.now() - started) / 1000;
  return { measure: await measureChain(client, workflowId, handle.firstExecutionRunId), seconds };
}

/** Waits for the chain to close; terminates it when its history stops growing (a task failing over and over). */
async function settled(handle: WorkflowHandle, stallMs: number): Promise<void> {
  let done = false;
  const result = handle.result().then(
    () => undefined,
    () => undefined,
  );
  void result.finally(() => {
    done = true;
  });
  let lastLength = -1;
  let lastChange = Date.now();
  while (!done) {
    await Promise.race([result, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    if (done) break;
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') continue;
    if (description.historyLength !== lastLength) {
      lastLength = description.historyLength;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      await handle.terminate(`bench: no progress for ${stallMs / 1000} s`);
    }
  }
}

function entry(steps: number, measure: ChainMeasure, modelActivity: string, seconds: number): HistoryEntry {
  const completedSteps = measure.completed[modelActivity] ?? 0;
  const failed = measure.failure !== undefined;
  const per = Math.max(1, completedSteps);
  return {
    steps,
    steps_completed: completedSteps,
    history_bytes_per_step: Math.round(measure.totalBytes / per),
    events_per_step: round(measure.events / per, 2),
    total_bytes: measure.totalBytes,
    events: measure.events,
    max_payload_bytes: measure.maxPayloadBytes,
    continued_as_new: measure.runs - 1,
    runs: measure.runs,
    seconds: round(seconds, 1),
    ...(failed ? { failed_at_step: completedSteps + 1, failure: measure.failure } : {}),
  };
}

function summarise(counts: number[], results: Record<Loop, Record<string, HistoryEntry>>, toolResultBytes: number) {
  const perStep = (loop: Loop) => Object.fromEntries(counts.map((steps) => [steps, results[loop][steps]!.history_bytes_per_step]));
  const naiveFailures = counts.map((steps) => results.naive[steps]!.failed_at_step).filter((step): step is number => step !== undefined);
  const oursWorst = Math.max(...counts.map((steps) => results.ours[steps]!.history_bytes_per_step));
  const oursFailed = counts.filter((steps) => results.ours[steps]!.failure !== undefined);
  const at50 =
    results.ours[50] && results.naive[50] ? results.naive[50].history_bytes_per_step / results.ours[50].history_bytes_per_step : undefined;
  const checks = {
    ours_at_most_4_KiB_per_step: { pass: oursWorst <= TARGET_BYTES_PER_STEP && oursFailed.length === 0, worst_bytes_per_step: oursWorst },
    ...(at50 === undefined ? {} : { naive_at_least_20x_ours_at_50: { pass: at50 >= TARGET_RATIO_AT_50, ratio: round(at50, 1) } }),
  };
  const section = {
    tool_result_bytes: toolResultBytes,
    ours: { steps: results.ours },
    naive: { steps: results.naive, ...(naiveFailures.length ? { failed_at_step: Math.min(...naiveFailures) } : {}) },
    history_bytes_per_step: { ours: perStep('ours'), naive: perStep('naive') },
    checks,
  };
  const rows = counts.flatMap((steps) =>
    (['ours', 'naive'] as const).map((loop) => {
      const item = results[loop][steps]!;
      return [
        steps,
        loop,
        item.failure ? `failed at step ${item.failed_at_step}` : 'completed',
        formatBytes(item.history_bytes_per_step),
        item.events_per_step,
        formatBytes(item.total_bytes),
        item.events,
        formatBytes(item.max_payload_bytes),
        item.continued_as_new,
        item.seconds,
      ];
    }),
  );
  const failures = counts
    .flatMap((steps) => (['ours', 'naive'] as const).map((loop) => [steps, loop, results[loop][steps]!.failure] as const))
    .filter(([, , failure]) => failure)
    .map(([steps, loop, failure]) => `  ${loop} at ${steps} steps: ${failure}`);
  const lines = [
    table(
      'History per step (sums over every run of a continue-as-new chain; per step = bytes / model calls completed)',
      ['steps', 'loop', 'outcome', 'bytes/step', 'events/step', 'total bytes', 'events', 'largest payload', 'continued', 'seconds'],
      rows,
    ),
    ...(failures.length ? ['Failures:', ...failures] : []),
    check('ours ≤ 4 KiB/step at every count', checks.ours_at_most_4_KiB_per_step.pass, `worst ${formatBytes(oursWorst)}/step`),
    ...(at50 === undefined ? [] : [check('naive ≥ 20× ours at 50 steps', at50 >= TARGET_RATIO_AT_50, `${round(at50, 1)}×`)]),
  ];
  return { section, text: lines.join('\n') };
}
