import { loadavg } from 'node:os';
import vm from 'node:vm';
import type { WorkflowHandle } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { ModelStepInput, ModelStepResult } from '../core/contracts/model.ts';
import { toolActivityType } from '../core/contracts/tools.ts';
import type { AppendInput, AppendResult } from '../core/contracts/transcript.ts';
import { functionCalls, type AgentSpec, type Content, type ToolResultRef } from '../core/spec.ts';
import type { ToolDefinition } from '../authoring/define-tool.ts';
import { createModelActivities } from '../worker/activities/model.ts';
import { createTranscriptActivities } from '../worker/activities/transcript.ts';
import { createToolActivities } from '../worker/activities/tools.ts';
import { createApprovalRecords } from '../store/approval-records.ts';
import { createMemoryRecordFiles } from '../store/record-files.ts';
import { createAgentWorker, type Tuning } from '../worker/create-worker.ts';
import type { AgentRunInput } from '../workflows/agent-run.ts';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../local/temporal-dev-server.ts';
import { API_KEY, BENCH_WORKFLOWS_PATH, startBenchEnvironment, type BenchEnvironment } from './harness.ts';
import { createNaiveActivities } from './naive/activities.ts';
import type { NaiveLoopInput } from './naive/workflows.ts';
import { percentile, round, table } from './report.ts';
import { createLoopTool, loopAgentSpec, loopPrompt, loopResponder } from './scripted-loop.ts';
import { eventsPerStep } from './step-events.ts';
import { taskLatencies } from './task-latency.ts';
import { AGENT_RUN_WORKFLOW } from '../core/run-events.ts';
import { quietLogger } from '../worker/workflow-bundle.ts';

/**
 * One way of running both designs: the dev server's dynamic config, and how this project's
 * worker is set up. The tutorial's loop always runs on a worker with default settings.
 */
export interface OverheadVariant {
  /** Dynamic config of the dev server. @default DEV_SERVER_DYNAMIC_CONFIG, as `startDevServer()` runs it */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Model calls on the workflow's own task queue (eager dispatch possible) instead of `<queue>-model`. @default false */
  modelOnMainQueue?: boolean;
  /** Worker options of this project's worker. @default none */
  tuning?: Tuning;
  /** Size of each tool result's JSON. @default 64 (a trivial tool) */
  toolResultBytes?: number;
  /** The loop's tool declares itself read-only, so agentRun runs its calls as local activities. @default false */
  readOnlyTool?: boolean;
  /** What this project's runs get besides spec and prompt. @default none */
  runInput?: Partial<AgentRunInput>;
  /** Run the tutorial's loop too. @default true */
  naive?: boolean;
  /**
   * Run the tutorial's loop a second time with its model call as a local activity and nothing
   * else changed: the least a step of one local model call and one tool activity costs on this
   * SDK and server, whatever the workflow around it does. @default false
   */
  floor?: boolean;
  /** What the variant tries, for the tables. */
  about: string;
}

/** The dev server's transfer queue raised and eager activities on. */
const EAGER_DYNAMIC_CONFIG = { 'history.transferProcessorMaxPollRPS': 1000, 'system.enableActivityEagerExecution': true };
/** As `eager_model_main`: eager activities, model calls on the main queue so they are eager too. */
const EAGER_MAIN_QUEUE = { dynamicConfig: EAGER_DYNAMIC_CONFIG, modelOnMainQueue: true };

/** Variants `--variants` can name; `project_default` is the one the bench runs by default. */
export const OVERHEAD_VARIANTS: Record<string, OverheadVariant> = {
  project_default: {
    floor: true,
    about: `startDevServer() as tests and npm start run it: ${JSON.stringify(DEV_SERVER_DYNAMIC_CONFIG)}; model calls as local activities; beside the tutorial's loop as it is and with only its model call made local`,
  },
  model_activity: {
    runInput: { localModelCalls: false },
    about:
      'as project_default, model calls as activities on their own queue (localModelCalls: false): the design before model calls ran locally',
  },
  server_defaults: { dynamicConfig: {}, about: "the dev server's own config (transfer queue read 20 times a second)" },
  before: {
    dynamicConfig: { 'history.transferProcessorMaxPollRPS': 1000 },
    about:
      'the dev server as the project ran it before this work (transfer queue raised, no eager activities); model calls on their own queue',
  },
  eager: {
    dynamicConfig: EAGER_DYNAMIC_CONFIG,
    about: 'eager activities on the server; model calls on their own queue (tools eager only)',
  },
  eager_model_main: {
    ...EAGER_MAIN_QUEUE,
    about: 'eager activities; model calls on the main queue, so they are eager too',
  },
  read_only_tools: {
    readOnlyTool: true,
    about:
      "as project_default, the loop's tool declared read-only: each step's tool call runs inside its model call's local activity, one local activity a step and no server round trip",
  },
  project_default_20k: {
    toolResultBytes: 20 * 1024,
    about: 'as project_default, each tool result 20 KiB (as in the history part): what the payloads cost',
  },
  eager_model_main_queue_limit: {
    ...EAGER_MAIN_QUEUE,
    tuning: { maxTaskQueueActivitiesPerSecond: 1000 } as Tuning,
    naive: false,
    about: "as eager_model_main, with the main queue's server-side rate limit set (1000/s)",
  },
  eager_model_main_worker_limit: {
    ...EAGER_MAIN_QUEUE,
    tuning: { maxActivitiesPerSecond: 1000 } as Tuning,
    naive: false,
    about: 'as eager_model_main, with a per-worker activity rate limit set (1000/s)',
  },
  local_model_same_thread: {
    tuning: { debugMode: true } as Tuning,
    about:
      'as project_default, workflows run on the main thread (debugMode: no deadlock detection): what the thread hops of a local call cost',
  },
  eager_model_main_same_thread: {
    ...EAGER_MAIN_QUEUE,
    tuning: { debugMode: true } as Tuning,
    about: 'as eager_model_main, workflows run on the main thread (debugMode: no deadlock detection)',
  },
};

export interface OverheadOptions {
  /** Measured runs of each design per step count (fewer for long runs: at most runs × 10 / steps, at least 5). @default 20 */
  runs?: number;
  /** Model calls per run, one measurement each. @default [10, 50] */
  steps?: number[];
  /** Unmeasured runs of each kind first. @default 2 */
  warmup?: number;
  /** Names from OVERHEAD_VARIANTS. @default ['project_default'] */
  variants?: string[];
  log?: (line: string) => void;
}

type Design = 'ours' | 'naive' | 'floor';
interface Samples {
  workflow: number[];
  inProcess: number[];
  runWorkflow: number[];
  runInProcess: number[];
  handles: WorkflowHandle[];
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

/**
 * Time per step that Temporal adds, for this project's `agentRun` and for the loop of the
 * well-known Gemini + Temporal tutorial (the whole conversation passed into every model
 * activity, one tool activity per call, one worker with default settings), on the same
 * server in the same run, interleaved. Each design's plain loop (the same activity functions
 * called in turn in this process) is its baseline. A step is the time from one model request
 * to the next, as the model server sees it (zero-latency model, trivial tool).
 */
export async function runOverhead(options: OverheadOptions = {}) {
  const settings = { runs: options.runs ?? 20, steps: options.steps ?? [10, 50], warmup: options.warmup ?? 2 };
  const log = options.log ?? (() => undefined);
  const names = options.variants ?? ['project_default'];
  const loadBefore = loadavg();
  const bundle = await bundleWorkflowCode({ workflowsPath: BENCH_WORKFLOWS_PATH, logger: quietLogger });
  const measured: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const name of names) {
    const variant = OVERHEAD_VARIANTS[name];
    if (!variant) throw new Error(`Unknown overhead variant ${name}: use ${Object.keys(OVERHEAD_VARIANTS).join(', ')}.`);
    log(`overhead: ${name}: ${variant.about}`);
    measured[name] = await measure(settings, log, variant, bundle);
  }
  const summary = await summarise(settings, names, measured);
  const vmCall = vmCallCost();
  const text = `${summary.text}\n\nOne call into a workflow's V8 context: ${vmCall.with_timeout_us} µs with the SDK's deadlock timeout, ${vmCall.without_timeout_us} µs without (the SDK makes about three a workflow activation)`;
  return {
    text,
    section: {
      ...summary.section,
      vm_call: vmCall,
      load_average: { before: loadBefore.map((value) => round(value, 2)), after: loadavg().map((value) => round(value, 2)) },
    },
  };
}

/**
 * What one call into a V8 context costs, with and without a timeout. The SDK runs workflow code
 * through such calls (the activation, unblocking conditions, concluding it: about three an
 * activation) and always gives them its deadlock timeout (`isolateExecutionTimeout`), for
 * which Node starts and joins a watchdog thread per call. Every design pays it per activation.
 */
function vmCallCost(calls = 2000) {
  const context = vm.createContext({}, { microtaskMode: 'afterEvaluate' });
  const script = new vm.Script('1 + 1');
  const perCall = (options: vm.RunningScriptOptions) => {
    for (let index = 0; index < 100; index += 1) script.runInContext(context, options);
    const started = performance.now();
    for (let index = 0; index < calls; index += 1) script.runInContext(context, options);
    return round(((performance.now() - started) / calls) * 1000, 1);
  };
  return { with_timeout_us: perCall({ timeout: 5000 }), without_timeout_us: perCall({}), calls };
}

async function measure(
  settings: { runs: number; steps: number[]; warmup: number },
  log: (line: string) => void,
  variant: OverheadVariant,
  bundle: { code: string },
) {
  const recorder = createRecorder();
  const tool = createLoopTool(variant.toolResultBytes ?? 64, { readOnly: variant.readOnlyTool === true });
  const environment = await startBenchEnvironment(
    loopResponder({ onRequest: recorder.onRequest }),
    variant.dynamicConfig ? { dynamicConfig: variant.dynamicConfig } : {},
  );
  const taskQueue = `overhead-${crypto.randomUUID()}`;
  const naiveQueue = `${taskQueue}-tutorial`;
  const agent = await createAgentWorker({
    connection: environment.connection,
    taskQueue,
    ...(variant.modelOnMainQueue ? { modelTaskQueue: taskQueue } : {}),
    tools: [tool],
    model: { apiKey: API_KEY, baseUrl: environment.model.url, store: environment.store },
    workflowBundle: bundle,
    ...(variant.tuning ? { tuning: variant.tuning } : {}),
  });
  // The tutorial's worker: workflows and activities on one queue, every setting at its default.
  const naiveActivities = createNaiveActivities({ apiKey: API_KEY, baseUrl: environment.model.url, tools: [tool] });
  const tutorial = await Worker.create({
    connection: environment.connection,
    taskQueue: naiveQueue,
    workflowBundle: bundle,
    activities: { ...naiveActivities },
  });
  const running = Promise.all([agent.run(), tutorial.run()]);
  const plainOurs = createInProcessLoop(environment, tool);
  const plainNaive = createNaiveInProcessLoop(naiveActivities);
  const designs: Design[] = [
    ...(['ours'] as const),
    ...(variant.naive === false ? [] : (['naive'] as const)),
    ...(variant.floor ? (['floor'] as const) : []),
  ];
  const results: Record<number, Partial<Record<Design, Samples>>> = {};
  try {
    for (const steps of settings.steps) {
      const runs = Math.max(5, Math.min(settings.runs, Math.round((settings.runs * 10) / steps)));
      const spec = loopAgentSpec(tool, steps + 5);
      const byDesign: Partial<Record<Design, Samples>> = {};
      for (const design of designs) byDesign[design] = { workflow: [], inProcess: [], runWorkflow: [], runInProcess: [], handles: [] };
      for (let index = 0; index < settings.warmup + runs; index += 1) {
        const measured = index >= settings.warmup;
        if (index === settings.warmup) log(`overhead: ${steps} steps: warm-up done, measuring ${runs} runs of each kind`);
        // Interleaved, so that load from elsewhere on the machine hits every kind alike.
        for (const design of designs) {
          const samples = byDesign[design]!;
          let started = performance.now();
          const handle =
            design === 'ours'
              ? await environment.client.workflow.start(AGENT_RUN_WORKFLOW, {
                  taskQueue,
                  workflowId: `overhead-${crypto.randomUUID()}`,
                  args: [
                    {
                      spec,
                      prompt: loopPrompt(steps),
                      ...(variant.modelOnMainQueue ? { modelTaskQueue: taskQueue } : {}),
                      ...variant.runInput,
                    } satisfies AgentRunInput,
                  ],
                })
              : await environment.client.workflow.start('naiveAgentLoop', {
                  taskQueue: naiveQueue,
                  workflowId: `overhead-${design}-${crypto.randomUUID()}`,
                  args: [{ spec, prompt: loopPrompt(steps), ...(design === 'floor' ? { localModel: true } : {}) } satisfies NaiveLoopInput],
                });
          await handle.result();
          if (measured) {
            samples.runWorkflow.push(performance.now() - started);
            samples.workflow.push(...recorder.lastRunSteps());
            samples.handles.push(handle);
          }
          started = performance.now();
          await (design === 'ours' ? plainOurs(spec, steps) : plainNaive(spec, steps));
          if (measured) {
            samples.runInProcess.push(performance.now() - started);
            samples.inProcess.push(...recorder.lastRunSteps());
          }
        }
      }
      results[steps] = byDesign;
    }
    // Where the time goes, from the event times of the last few runs of each kind.
    for (const byDesign of Object.values(results))
      for (const samples of Object.values(byDesign)) samples.handles = samples.handles.slice(-3);
    return { results, latencies: await latenciesOf(results) };
  } finally {
    agent.shutdown();
    tutorial.shutdown();
    await running;
    await environment.close();
  }
}

interface WhereTimeGoes {
  task_latency_ms: Awaited<ReturnType<typeof taskLatencies>>;
  events_per_step: Awaited<ReturnType<typeof eventsPerStep>>;
}

async function latenciesOf(results: Record<number, Partial<Record<Design, Samples>>>) {
  const out: Record<number, Partial<Record<Design, WhereTimeGoes>>> = {};
  for (const [steps, byDesign] of Object.entries(results)) {
    out[Number(steps)] = {};
    for (const [design, samples] of Object.entries(byDesign)) {
      out[Number(steps)]![design as Design] = {
        task_latency_ms: await taskLatencies(samples.handles),
        events_per_step: await eventsPerStep(samples.handles, Number(steps)),
      };
    }
  }
  return out;
}

/** The loop of `agentRun` without Temporal: the same activity functions, called in turn. */
function createInProcessLoop(environment: BenchEnvironment, tool: ToolDefinition) {
  const { callModel } = createModelActivities({ apiKey: API_KEY, baseUrl: environment.model.url, store: environment.store });
  const { appendToTranscript } = createTranscriptActivities(environment.store);
  const tools = createToolActivities([tool], environment.store, createApprovalRecords(createMemoryRecordFiles()));
  // Tool activities read Context.current() (cancellation, heartbeats): give them one in-process.
  const activity = new MockActivityEnvironment();
  return async (spec: AgentSpec, steps: number) => {
    const startInput: AppendInput = { messages: [{ role: 'user', parts: [{ text: loopPrompt(steps) }] }], spec };
    const started: AppendResult = await activity.run(appendToTranscript, startInput);
    let head = started.head;
    let pending: ToolResultRef[] = [];
    for (let step = 1; step <= spec.limits.maxSteps; step += 1) {
      const stepInput: ModelStepInput = { specRef: started.specRef!, head, ...(pending.length ? { toolResults: pending } : {}) };
      const result: ModelStepResult = await activity.run(callModel, stepInput);
      head = result.head;
      if (result.calls.length === 0) return;
      pending = await Promise.all(
        result.calls.map((call): Promise<ToolResultRef> => activity.run(tools[toolActivityType(call.name)]!, { call })),
      );
    }
  };
}

/** The tutorial's loop without Temporal: its activities called in turn, the conversation in memory. */
function createNaiveInProcessLoop(activities: ReturnType<typeof createNaiveActivities>) {
  const activity = new MockActivityEnvironment();
  return async (spec: AgentSpec, steps: number) => {
    const contents: Content[] = [{ role: 'user', parts: [{ text: loopPrompt(steps) }] }];
    for (let step = 1; step <= spec.limits.maxSteps; step += 1) {
      const response: Content = await activity.run(activities.naiveCallModel, { spec, contents });
      contents.push(response);
      const calls = functionCalls(response);
      if (calls.length === 0) return;
      const results = await Promise.all(
        calls.map((call) => activity.run(activities.naiveRunTool, { name: call.name, args: call.args ?? {} })),
      );
      contents.push({
        role: 'user',
        parts: calls.map((call, index) => ({ functionResponse: { name: call.name, response: { output: results[index] } } })),
      });
    }
  };
}

const stats = (values: number[]) => ({
  p50_ms: round(percentile(values, 50), 2),
  p95_ms: round(percentile(values, 95), 2),
  mean_ms: round(values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length), 2),
  samples: values.length,
});

const DESIGN_KEYS: Record<Design, string> = { ours: 'agent_run', naive: 'naive_tutorial', floor: 'floor_local_model' };
const DESIGN_LABELS: Record<Design, string> = {
  ours: 'agentRun (this project)',
  naive: 'naive tutorial loop',
  floor: 'tutorial loop, model call local',
};

async function summarise(
  settings: { runs: number; steps: number[]; warmup: number },
  names: string[],
  measured: Record<
    string,
    { results: Record<number, Partial<Record<Design, Samples>>>; latencies: Record<number, Partial<Record<Design, WhereTimeGoes>>> }
  >,
) {
  const section: Record<string, unknown> = {
    ...settings,
    step: 'time from one model request to the next (model response, tool, next model request), measured at the model server',
    project_default_config: DEV_SERVER_DYNAMIC_CONFIG,
  };
  const rows: (string | number)[][] = [];
  for (const name of names) {
    const { results, latencies } = measured[name]!;
    const entry: Record<string, unknown> = { about: OVERHEAD_VARIANTS[name]!.about };
    for (const [steps, byDesign] of Object.entries(results)) {
      const added: Partial<Record<Design, number>> = {};
      for (const [design, samples] of Object.entries(byDesign) as [Design, Samples][]) {
        const workflow = stats(samples.workflow);
        const inProcess = stats(samples.inProcess);
        const adds = {
          p50_ms: round(workflow.p50_ms - inProcess.p50_ms, 2),
          p95_ms: round(workflow.p95_ms - inProcess.p95_ms, 2),
          mean_ms: round(workflow.mean_ms - inProcess.mean_ms, 2),
        };
        added[design] = adds.p50_ms;
        entry[`${DESIGN_KEYS[design]}_${steps}_steps`] = {
          design: DESIGN_LABELS[design],
          steps: Number(steps),
          per_step: { workflow, in_process: inProcess, temporal_adds: adds },
          per_run: { workflow: stats(samples.runWorkflow), in_process: stats(samples.runInProcess) },
          task_latency_ms: latencies[Number(steps)]?.[design]?.task_latency_ms,
          events_per_step: latencies[Number(steps)]?.[design]?.events_per_step,
        };
        const events = latencies[Number(steps)]?.[design]?.events_per_step.total ?? '';
        rows.push([
          name,
          steps,
          DESIGN_LABELS[design],
          workflow.p50_ms,
          workflow.p95_ms,
          inProcess.p50_ms,
          adds.p50_ms,
          adds.p95_ms,
          workflow.samples,
          events,
        ]);
      }
      if (added.ours !== undefined && added.naive !== undefined) {
        const ratio = round(added.ours / added.naive, 2);
        entry[`ratio_${steps}_steps`] = { agent_run_over_naive_tutorial_temporal_adds_p50: ratio };
        rows.push([name, steps, 'agentRun / tutorial, Temporal adds', '', '', '', `x${ratio}`, '', '', '']);
      }
      if (added.floor !== undefined && added.naive !== undefined) {
        const ratio = round(added.floor / added.naive, 2);
        entry[`floor_ratio_${steps}_steps`] = { floor_local_model_over_naive_tutorial_temporal_adds_p50: ratio };
        rows.push([name, steps, 'local model floor / tutorial', '', '', '', `x${ratio}`, '', '', '']);
      }
    }
    section[name] = entry;
  }
  section.variants = Object.fromEntries(names.map((name) => [name, OVERHEAD_VARIANTS[name]]));
  const text = table(
    `Per-step time (ms): model request to next model request; zero-latency model, trivial tool; up to ${settings.runs} runs per design after ${settings.warmup} warm-up runs, interleaved`,
    ['variant', 'steps', 'loop', 'workflow p50', 'p95', 'plain loop p50', 'Temporal adds p50', 'p95', 'samples', 'events/step'],
    rows,
  );
  return { section, text };
}
