import { loadavg } from 'node:os';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ModelStepInput, ModelStepResult } from '../core/contracts/model.ts';
import { toolActivityType } from '../core/contracts/tools.ts';
import type { AppendInput, AppendResult } from '../core/contracts/transcript.ts';
import type { AgentSpec, ToolResultRef } from '../core/spec.ts';
import type { ToolDefinition } from '../core/define-tool.ts';
import { createModelActivities } from '../worker/activities/model.ts';
import { createTranscriptActivities } from '../worker/activities/transcript.ts';
import { createToolActivities } from '../worker/activities/tools.ts';
import type { AgentRunInput } from '../workflows/agent-run.ts';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../local/temporal-dev-server.ts';
import { API_KEY, startBenchEnvironment, startBenchWorkers, type BenchEnvironment, type BenchEnvironmentOptions } from './harness.ts';
import { percentile, round, table } from './report.ts';
import { createLoopTool, loopAgentSpec, loopPrompt, loopResponder } from './scripted-loop.ts';

export interface OverheadOptions {
  /** Measured runs of each kind. @default 30 */
  runs?: number;
  /** Model calls per run. @default 10 */
  steps?: number;
  /** Unmeasured runs of each kind first. @default 3 */
  warmup?: number;
  log?: (line: string) => void;
}

/** Arrival times of model requests, per run: runs are sequential, so step 1 opens a new run. */
function createRecorder() {
  const runs: number[][] = [];
  return {
    onRequest: (_request: unknown, step: number) => {
      if (step === 1 || runs.length === 0) runs.push([]);
      runs.at(-1)!.push(performance.now());
    },
    /** Time between consecutive model calls of the last run: one loop step each. */
    lastRunSteps(): number[] {
      const times = runs.at(-1) ?? [];
      return times.slice(1).map((time, index) => time - times[index]!);
    },
  };
}

interface Samples {
  workflow: number[];
  inProcess: number[];
}

/**
 * Time per step that Temporal adds: the same loop with a zero-latency model and a trivial
 * tool, run as the `agentRun` workflow and as a plain for-loop calling the same activity
 * functions in this process, on the same store. A step is the time from one model request
 * to the next, as the model server sees it. Measured on the dev server as tests run it, and
 * on one with the server's own defaults (its transfer queue read at most 20 times a second).
 */
export async function runOverhead(options: OverheadOptions = {}) {
  const settings = { runs: options.runs ?? 30, steps: options.steps ?? 10, warmup: options.warmup ?? 3 };
  const log = options.log ?? (() => undefined);
  const loadBefore = loadavg();
  log('overhead: dev server with its own default config');
  const serverDefaults = await measure(settings, log, { dynamicConfig: {} });
  log(`overhead: dev server as startDevServer() runs it, ${JSON.stringify(DEV_SERVER_DYNAMIC_CONFIG)}`);
  const projectDefault = await measure(settings, log, {});
  const summary = summarise(settings, { server_defaults: serverDefaults, project_default: projectDefault });
  return { ...summary, section: { ...summary.section, load_average: { before: loadBefore.map((value) => round(value, 2)), after: loadavg().map((value) => round(value, 2)) } } };
}

async function measure(settings: { runs: number; steps: number; warmup: number }, log: (line: string) => void, serverOptions: BenchEnvironmentOptions) {
  const { runs, steps, warmup } = settings;
  const recorder = createRecorder();
  const tool = createLoopTool(64);
  const spec = loopAgentSpec(tool, steps + 5);
  const environment = await startBenchEnvironment(loopResponder({ onRequest: recorder.onRequest }), serverOptions);
  const workers = await startBenchWorkers(environment, [tool]);
  const inProcess = createInProcessLoop(environment, tool, spec);
  const samples: Samples = { workflow: [], inProcess: [] };
  const runTimes: Samples = { workflow: [], inProcess: [] };
  try {
    for (let index = 0; index < warmup + runs; index += 1) {
      const measured = index >= warmup;
      if (index === warmup) log(`overhead: ${warmup} warm-up runs done, measuring ${runs} runs of each kind`);
      // Alternate so that load from elsewhere on the machine hits both kinds alike.
      let started = performance.now();
      const input: AgentRunInput = { spec, prompt: loopPrompt(steps) };
      const handle = await environment.client.workflow.start('agentRun', { taskQueue: workers.taskQueue, workflowId: `overhead-${crypto.randomUUID()}`, args: [input] });
      await handle.result();
      if (measured) {
        runTimes.workflow.push(performance.now() - started);
        samples.workflow.push(...recorder.lastRunSteps());
      }
      started = performance.now();
      await inProcess(steps);
      if (measured) {
        runTimes.inProcess.push(performance.now() - started);
        samples.inProcess.push(...recorder.lastRunSteps());
      }
    }
  } finally {
    await workers.stop();
    await environment.close();
  }
  return { samples, runTimes };
}

/** The loop of `agentRun` without Temporal: the same activity functions, called in turn. */
function createInProcessLoop(environment: BenchEnvironment, tool: ToolDefinition, spec: AgentSpec) {
  const { callModel } = createModelActivities({ apiKey: API_KEY, baseUrl: environment.model.url, store: environment.store });
  const { appendToTranscript } = createTranscriptActivities(environment.store);
  const tools = createToolActivities([tool], environment.store);
  // Tool activities read Context.current() (cancellation, heartbeats): give them one in-process.
  const activity = new MockActivityEnvironment();
  return async (steps: number) => {
    const startInput: AppendInput = { messages: [{ role: 'user', parts: [{ text: loopPrompt(steps) }] }], spec };
    const started: AppendResult = await activity.run(appendToTranscript, startInput);
    let head = started.head;
    let pending: ToolResultRef[] = [];
    for (let step = 1; step <= spec.limits.maxSteps; step += 1) {
      const stepInput: ModelStepInput = { specRef: started.specRef!, head, ...(pending.length ? { toolResults: pending } : {}) };
      const result: ModelStepResult = await activity.run(callModel, stepInput);
      head = result.head;
      if (result.calls.length === 0) return;
      pending = await Promise.all(result.calls.map((call): Promise<ToolResultRef> => activity.run(tools[toolActivityType(call.name)]!, { call })));
    }
  };
}

const stats = (values: number[]) => ({
  p50_ms: round(percentile(values, 50), 2),
  p95_ms: round(percentile(values, 95), 2),
  mean_ms: round(values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length), 2),
  samples: values.length,
});

function summarise(settings: { runs: number; steps: number; warmup: number }, measured: Record<string, { samples: Samples; runTimes: Samples }>) {
  const configurations: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  for (const [name, { samples, runTimes }] of Object.entries(measured)) {
    const workflow = stats(samples.workflow);
    const inProcess = stats(samples.inProcess);
    const added = {
      p50_ms: round(workflow.p50_ms - inProcess.p50_ms, 2),
      p95_ms: round(workflow.p95_ms - inProcess.p95_ms, 2),
      mean_ms: round(workflow.mean_ms - inProcess.mean_ms, 2),
    };
    const perRun = { workflow: stats(runTimes.workflow), in_process: stats(runTimes.inProcess) };
    configurations[name] = { per_step: { workflow, in_process: inProcess, temporal_adds: added }, per_run: perRun };
    rows.push(
      [name, 'workflow (agentRun)', workflow.p50_ms, workflow.p95_ms, workflow.mean_ms, workflow.samples, perRun.workflow.p50_ms, perRun.workflow.p95_ms],
      [name, 'in-process loop', inProcess.p50_ms, inProcess.p95_ms, inProcess.mean_ms, inProcess.samples, perRun.in_process.p50_ms, perRun.in_process.p95_ms],
      [name, 'Temporal adds', added.p50_ms, added.p95_ms, added.mean_ms, '', round(perRun.workflow.p50_ms - perRun.in_process.p50_ms, 2), round(perRun.workflow.p95_ms - perRun.in_process.p95_ms, 2)],
    );
  }
  const section = {
    ...settings,
    step: 'time from one model request to the next (model response, tool, next model request), measured at the model server',
    project_default_config: DEV_SERVER_DYNAMIC_CONFIG,
    ...configurations,
  };
  const text = table(
    `Per-step time, ${settings.runs} runs × ${settings.steps} model calls after ${settings.warmup} warm-up runs (zero-latency model, trivial tool)\n` +
      `server_defaults: the dev server's own config; project_default: startDevServer() as tests and npm start run it, ${JSON.stringify(DEV_SERVER_DYNAMIC_CONFIG)}`,
    ['server', 'loop', 'p50 ms', 'p95 ms', 'mean ms', 'steps', 'run p50 ms', 'run p95 ms'],
    rows,
  );
  return { section, text };
}
