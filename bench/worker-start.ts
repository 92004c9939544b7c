import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { TEST_PAYLOAD_KEYS_JSON, testDataConverter } from '../testkit/payload-keys.ts';
import proto from '@temporalio/proto';
import { findTemporalCli, startDevServer } from '../local/temporal-dev-server.ts';
import { buildWorkflowBundle } from '../worker/workflow-bundle.ts';
import { percentile, round, table } from './report.ts';

const WORKER_MAIN = fileURLToPath(new URL('../worker/main.ts', import.meta.url));
const GOAL_MS = 2000;

export interface WorkerStartBenchOptions {
  /** Starts per way of loading the workflows. @default 5 */
  runs?: number;
  log?: (line: string) => void;
}

interface Way {
  way: string;
  runs_ms: number[];
  min_ms: number;
  median_ms: number;
  max_ms: number;
  /** CPU time (user + system) the worker process used until its first poll: what a shared machine's load does not inflate. */
  cpu_runs_ms: number[];
  cpu_median_ms: number;
}

/**
 * Time from `node worker/main.ts` to its first poll of the workflow task queue, as the server
 * sees it (a poller with the child's identity in DescribeTaskQueue), with the workflows bundled
 * at start and with the bundle built ahead (WORKFLOW_BUNDLE_PATH, as the image runs). The start
 * includes connecting, the search attribute check and the schedule sync (nothing to change:
 * one list), as in the container.
 */
export async function runWorkerStartBench(options: WorkerStartBenchOptions = {}): Promise<{ section: unknown; text: string }> {
  const runs = options.runs ?? 5;
  const log = options.log ?? (() => undefined);
  const loadBefore = loadavg();
  const scratch = mkdtempSync(join(tmpdir(), 'bench-worker-start-'));
  const bundlePath = join(scratch, 'workflow-bundle.js');
  const bundleStarted = performance.now();
  writeFileSync(bundlePath, await buildWorkflowBundle());
  const bundleMs = performance.now() - bundleStarted;
  log(`worker-start: bundle built in ${Math.round(bundleMs)} ms; starting a dev server`);
  const server = await startDevServer({ executable: findTemporalCli(process.env) });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter: testDataConverter });
  const taskQueue = `bench-worker-start-${crypto.randomUUID().slice(0, 8)}`;
  const ways: Way[] = [];
  try {
    for (const [way, bundle] of [
      ['bundled at start', undefined],
      ['prebuilt bundle (WORKFLOW_BUNDLE_PATH)', bundlePath],
    ] as const) {
      const times: number[] = [];
      const cpuTimes: number[] = [];
      for (let run = 0; run < runs; run += 1) {
        const { ms, cpuMs } = await timeToFirstPoll(client, server.address, taskQueue, scratch, bundle);
        times.push(round(ms));
        cpuTimes.push(cpuMs);
        log(`worker-start: ${way}, run ${run + 1}: ${Math.round(ms)} ms (${cpuMs} ms of CPU)`);
      }
      ways.push({
        way,
        runs_ms: times,
        min_ms: Math.min(...times),
        median_ms: percentile(times, 50),
        max_ms: Math.max(...times),
        cpu_runs_ms: cpuTimes,
        cpu_median_ms: percentile(cpuTimes, 50),
      });
    }
  } finally {
    await connection.close();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const prebuilt = ways[1]!;
  const section = {
    goal: { start_to_first_poll_median_ms: { value: prebuilt.median_ms, goal_at_most: GOAL_MS, met: prebuilt.median_ms <= GOAL_MS } },
    bundle_build_ms: round(bundleMs),
    ways,
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', node: process.version },
    load_average_before: loadBefore.map((value) => round(value, 2)),
    about:
      'node worker/main.ts to the first workflow task poll the server records (DescribeTaskQueue, poller identity pid@host); schedule sync at start on (nothing to change); the machine is shared',
  };
  const text = table(
    `Worker start to first poll, ${runs} starts each (goal: ≤ ${GOAL_MS} ms)`,
    ['workflows', 'min ms', 'median ms', 'max ms', 'CPU ms (median)'],
    ways.map((entry) => [entry.way, entry.min_ms, entry.median_ms, entry.max_ms, entry.cpu_median_ms]),
  );
  return { section, text };
}

async function timeToFirstPoll(
  client: Client,
  address: string,
  taskQueue: string,
  scratch: string,
  bundle: string | undefined,
): Promise<{ ms: number; cpuMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      GOOGLE_API_KEY: 'bench-key',
      // The worker encrypts payloads as in production; the bench's client reads them with the same keys.
      PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON,
      GEMINI_BASE_URL: 'http://127.0.0.1:9',
      TRANSCRIPT_DIR: join(scratch, 'transcripts'),
      ...(bundle ? { WORKFLOW_BUNDLE_PATH: bundle } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const identity = `${child.pid}@${hostname()}`;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`worker exited before polling:\n${output}`);
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      if (pollers.some((poller) => poller.identity === identity)) return { ms: performance.now() - started, cpuMs: cpuMsOf(child.pid!) };
      if (performance.now() - started > 60_000) throw new Error(`worker did not poll within 60 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** User plus system CPU time of a process so far, from /proc (Linux; clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}
