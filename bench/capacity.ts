import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../worker/create-worker.ts';
import type { AgentRunInput } from '../workflows/agent-run.ts';
import type { CapacityWorkerMessage, CapacityWorkerSettings } from './capacity-worker.ts';
import { startBenchEnvironment } from './harness.ts';
import { childProcessesNamed, cpuSecondsOf, memoryOf } from './proc.ts';
import { check, formatBytes, percentile, round, table } from './report.ts';
import { taskLatencies } from './task-latency.ts';
import { createLoopTool, loopAgentSpec, loopPrompt, loopResponder } from './scripted-loop.ts';
import { AGENT_RUN_WORKFLOW } from '../core/run-events.ts';
import { quietLogger } from '../worker/workflow-bundle.ts';

export interface CapacityOptions {
  /** Concurrent agent runs. @default 1000 */
  runs?: number;
  /** Model calls per run (each but the last asks for one tool call). @default 3 */
  modelCalls?: number;
  /** Latency of every model call. @default 2000 */
  modelDelayMs?: number;
  /** Model calls on the workflow's own task queue, dispatched eagerly, instead of `<queue>-model`. @default false */
  modelOnMainQueue?: boolean;
  /** Worker options laid over the chosen tuning of the main worker (`--tuning '{…}'`), for experiments. */
  tuning?: Record<string, unknown>;
  /** …and of the model worker (`--model-tuning '{…}'`). */
  modelTuning?: Record<string, unknown>;
  log?: (line: string) => void;
}

const MEMORY_TARGET_BYTES = 1.5 * 1024 ** 3;
const TOOL_RESULT_BYTES = 1024;
const WORKER_PATH = new URL('./capacity-worker.ts', import.meta.url).pathname;

/**
 * Worker capacity: N agent runs started at once against one worker process, with a model that
 * takes 2 s a call. Reports throughput, run latency and the worker's peak resident memory.
 */
export async function runCapacity(options: CapacityOptions = {}) {
  const runs = options.runs ?? 1000;
  const modelOnMainQueue = options.modelOnMainQueue ?? false;
  const modelCalls = options.modelCalls ?? 3;
  const modelDelayMs = options.modelDelayMs ?? 2000;
  const log = options.log ?? (() => undefined);
  // Each run has at most one model call open: one slot per run, so no call waits for a slot.
  // Tools and transcript appends are short; workflow tasks are CPU work on one thread, so more
  // slots than the default would only queue inside the worker. The cache holds every open run,
  // so no workflow task replays a run from its start.
  // With model calls on the main queue, each run's open model call holds a slot of the main worker.
  // A model call runs as a local activity inside its workflow task, which stays open until the
  // call returns: each open call holds a workflow task slot and a local activity slot, and the
  // worker's default (OPEN_MODEL_CALLS, 200 of each) bounds how many are open. A slot per run
  // (1,050) held so many tasks open against the loaded server that tasks timed out and replayed.
  const tuning = {
    maxCachedWorkflows: runs + 50,
    maxConcurrentActivityTaskExecutions: modelOnMainQueue ? runs + 200 : 200,
    ...options.tuning,
  };
  const modelTuning = { maxConcurrentActivityTaskExecutions: runs + 50, ...options.modelTuning };

  const arrivals: number[] = [];
  const environment = await startBenchEnvironment(
    loopResponder({ delayMs: modelDelayMs, onRequest: () => arrivals.push(performance.now()) }),
  );
  const loadBefore = loadavg();
  let worker: ChildProcess | undefined;
  try {
    log('capacity: bundling workflows for the worker process');
    const bundlePath = join(environment.storeDirectory, '..', 'workflow-bundle.js');
    writeFileSync(bundlePath, (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger })).code);
    const taskQueue = `capacity-${crypto.randomUUID()}`;
    const settings: CapacityWorkerSettings = {
      address: environment.address,
      taskQueue,
      modelUrl: environment.model.url,
      storeDirectory: environment.storeDirectory,
      bundlePath,
      toolResultBytes: TOOL_RESULT_BYTES,
      tuning,
      modelTuning,
      modelOnMainQueue,
    };
    const child = fork(WORKER_PATH, [JSON.stringify(settings)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    worker = child;
    const messages = messagesOf(child);
    await messages.next('ready');
    const idleRss = memoryOf(child.pid!)?.rss ?? 0;
    const sampler = sampleMemory(child.pid!);

    const spec = loopAgentSpec(createLoopTool(TOOL_RESULT_BYTES), modelCalls + 2);
    const input: AgentRunInput = { spec, prompt: loopPrompt(modelCalls), ...(modelOnMainQueue ? { modelTaskQueue: taskQueue } : {}) };
    const startRun = (prefix: string) =>
      environment.client.workflow.start(AGENT_RUN_WORKFLOW, { taskQueue, workflowId: `${prefix}-${crypto.randomUUID()}`, args: [input] });

    log('capacity: 20 warm-up runs');
    await Promise.all(Array.from({ length: 20 }, async () => (await startRun('warmup')).result()));

    log(`capacity: starting ${runs} runs at once`);
    const serverPids = childProcessesNamed(process.pid, 'temporal');
    const cpuBefore = {
      driver: process.cpuUsage(),
      worker: cpuSecondsOf(child.pid!),
      server: serverPids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0),
    };
    arrivals.length = 0;
    const began = performance.now();
    const handles = await mapLimited(Array.from({ length: runs }), 50, () => startRun('capacity'));
    const startedAll = performance.now();
    const outcomes = await Promise.allSettled(handles.map((handle) => handle.result()));
    const wall = (performance.now() - began) / 1000;
    const driverCpu = process.cpuUsage(cpuBefore.driver);
    const cpu = {
      driver: (driverCpu.user + driverCpu.system) / 1e6,
      worker: cpuSecondsOf(child.pid!) - cpuBefore.worker,
      server: serverPids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0) - cpuBefore.server,
    };
    const descriptions = await mapLimited(handles, 50, (handle) => handle.describe());
    const latencies = descriptions.filter((d) => d.closeTime).map((d) => (d.closeTime!.getTime() - d.startTime.getTime()) / 1000);
    const memory = sampler.stop();
    const tasks = await taskLatencies(handles.filter((_, index) => index % Math.max(1, Math.floor(runs / 50)) === 0));
    child.send({ kind: 'stop' });
    const stopped = await messages.next('stopped');
    worker = undefined;

    const completed = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    const firstFailure = outcomes.find((outcome) => outcome.status === 'rejected');
    const peakRss = Math.max(memory.peakHwm, stopped.maxRssBytes);
    const section = {
      runs,
      model_calls_per_run: modelCalls,
      tool_calls_per_run: modelCalls - 1,
      model_delay_ms: modelDelayMs,
      completed,
      ...(firstFailure ? { first_failure: String((firstFailure as PromiseRejectedResult).reason) } : {}),
      wall_seconds: round(wall, 2),
      start_calls_seconds: round((startedAll - began) / 1000, 2),
      runs_per_second: round(completed / wall, 2),
      latency_seconds: {
        p50: round(percentile(latencies, 50), 2),
        p95: round(percentile(latencies, 95), 2),
        max: round(Math.max(...latencies), 2),
        min: round(Math.min(...latencies), 2),
      },
      worker_peak_rss_bytes: peakRss,
      worker_rss_idle_bytes: idleRss,
      worker_rss_at_end_bytes: memory.lastRss,
      worker_heap_used_at_exit_bytes: stopped.heapUsedBytes,
      peak_concurrent_model_calls: peakConcurrency(arrivals, modelDelayMs),
      cpu_seconds: { worker: round(cpu.worker, 1), dev_server: round(cpu.server, 1), driver_and_model_server: round(cpu.driver, 1) },
      task_latency_ms: tasks,
      load_average: { before: loadBefore.map((value) => round(value, 2)), after: loadavg().map((value) => round(value, 2)) },
      model_on_main_queue: modelOnMainQueue,
      tuning: { tuning, ...(modelOnMainQueue ? {} : { modelTuning }) },
    };
    const text = [
      table(
        `Capacity: ${runs} concurrent runs in one worker process (${modelCalls} model calls of ${modelDelayMs} ms and ${modelCalls - 1} tool calls each)`,
        [
          'completed',
          'wall s',
          'runs/s',
          'latency p50 s',
          'latency p95 s',
          'peak RSS',
          'peak model calls open',
          'CPU s worker / server / driver',
        ],
        [
          [
            `${completed}/${runs}`,
            section.wall_seconds,
            section.runs_per_second,
            section.latency_seconds.p50,
            section.latency_seconds.p95,
            formatBytes(peakRss),
            section.peak_concurrent_model_calls,
            `${section.cpu_seconds.worker} / ${section.cpu_seconds.dev_server} / ${section.cpu_seconds.driver_and_model_server}`,
          ],
        ],
      ),
      table(
        'Where the time goes (from the event times of a sample of runs)',
        ['task', 'p50 ms', 'p95 ms', 'count'],
        Object.entries(tasks).map(([name, value]) => [name, value.p50_ms, value.p95_ms, value.count]),
      ),
      `Tuning: main worker ${JSON.stringify(tuning)}; ${modelOnMainQueue ? 'model calls on the main queue (eager)' : `model worker ${JSON.stringify(modelTuning)}`}`,
      `Worker RSS: ${formatBytes(idleRss)} idle after start, ${formatBytes(peakRss)} at peak, ${formatBytes(memory.lastRss)} when the last run closed.`,
      check(
        `${runs} concurrent runs complete within 1.5 GiB`,
        completed === runs && peakRss <= MEMORY_TARGET_BYTES,
        `${completed}/${runs} completed, peak RSS ${formatBytes(peakRss)}`,
      ),
    ];
    return { section, text: text.join('\n') };
  } finally {
    worker?.kill('SIGKILL');
    await environment.close();
  }
}

/** Most model requests open at once, counting each as open for `durationMs` after it arrived. */
function peakConcurrency(arrivals: number[], durationMs: number): number {
  let peak = 0;
  let first = 0;
  for (let index = 0; index < arrivals.length; index += 1) {
    while (arrivals[first]! <= arrivals[index]! - durationMs) first += 1;
    peak = Math.max(peak, index - first + 1);
  }
  return peak;
}

function sampleMemory(pid: number) {
  let peakHwm = 0;
  let lastRss = 0;
  const sample = () => {
    const memory = memoryOf(pid);
    if (memory) {
      peakHwm = Math.max(peakHwm, memory.hwm);
      lastRss = memory.rss;
    }
  };
  const timer = setInterval(sample, 250);
  return {
    stop: () => {
      sample();
      clearInterval(timer);
      return { peakHwm, lastRss };
    },
  };
}

function messagesOf(child: ChildProcess) {
  const received: CapacityWorkerMessage[] = [];
  const waiting: (() => void)[] = [];
  let exited: string | undefined;
  child.on('message', (message: CapacityWorkerMessage) => {
    received.push(message);
    waiting.splice(0).forEach((wake) => wake());
  });
  child.on('exit', (code, signal) => {
    exited = `the worker process exited (${code ?? signal})`;
    waiting.splice(0).forEach((wake) => wake());
  });
  return {
    async next<K extends CapacityWorkerMessage['kind']>(kind: K): Promise<Extract<CapacityWorkerMessage, { kind: K }>> {
      for (;;) {
        const found = received.find((message) => message.kind === kind);
        if (found) return found as Extract<CapacityWorkerMessage, { kind: K }>;
        if (exited) throw new Error(`${exited} before sending '${kind}'`);
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
  };
}

async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}
