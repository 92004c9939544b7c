import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { TEST_PAYLOAD_KEYS_JSON, testDataConverter } from '../testkit/payload-keys.ts';
import { sendMessage } from '../temporal-client/send-message.ts';
import { TURNS_QUERY, type TurnSummary } from '../core/conversation.ts';
import { startGeminiServer } from '../local/gemini-server.ts';
import { offlineModel } from '../local/offline-model.ts';
import { findTemporalCli, startDevServer, type DevServer } from '../local/temporal-dev-server.ts';
import { buildWorkflowBundle } from '../worker/workflow-bundle.ts';
import { childProcessesNamed, cpuSecondsOf, memoryOf } from './proc.ts';
import { formatBytes, percentile, round, table } from './report.ts';

const WORKER_MAIN = fileURLToPath(new URL('../worker/main.ts', import.meta.url));
const GOALS = { worker_rss_at_most_bytes: 2 * 1024 ** 3, message_to_random_p99_beyond_model_ms: 1000 } as const;
const QUESTION = 'What time is it in Tokyo right now?';
/** Checkpoints of the worker's RSS while conversations open: at each tenth of them. */
const CHECKPOINTS = 10;
const SQLITE_PRAGMAS = { journal_mode: 'wal', synchronous: 'normal' };

export interface IdleConversationsBenchOptions {
  /** Open conversations, each answered once and then waiting. @default 500 (the issue's size: 10,000) */
  conversations?: number;
  /** Messages then sent to random ones, one at a time. @default 50 */
  probes?: number;
  /** Conversations opened at once. @default 32 */
  concurrency?: number;
  /**
   * The worker's sticky cache (`WORKER_MAX_CACHED_WORKFLOWS`): workflows it keeps in memory; the
   * others are replayed from history at their next message. @default 500
   */
  cachedWorkflows?: number;
  log?: (line: string) => void;
}

/**
 * Many open conversations, each waiting for its next message, on one worker (`worker/main.ts`
 * with the prebuilt bundle and a bounded sticky cache, its own process) and a dev server kept
 * in a file: the worker's RSS as they open (it levels off once the cache is full), how long a
 * message to a random one of them takes to be answered (the offline model answers at once,
 * with one tool call; most of them are no longer cached, so their history is replayed), and
 * the server's database size per conversation.
 *
 * A conversation is opened by its first message; the bench waits for that turn's run (the child
 * workflow `<id>/turn-1`) to complete with one long poll on its result, then reads the turns
 * once: polling the turns query would make the worker answer a query task every few
 * milliseconds for each conversation being opened, as much work as the turns themselves.
 */
export async function runIdleConversationsBench(options: IdleConversationsBenchOptions = {}): Promise<{ section: unknown; text: string }> {
  const count = options.conversations ?? 500;
  const probes = options.probes ?? 50;
  const concurrency = options.concurrency ?? 32;
  const cachedWorkflows = options.cachedWorkflows ?? 500;
  const log = options.log ?? (() => undefined);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--conversations ${count}: give a whole number above 0.`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency ${concurrency}: give a whole number above 0.`);
  if (!Number.isInteger(cachedWorkflows) || cachedWorkflows < 2)
    throw new Error(`--cached-workflows ${cachedWorkflows}: give a whole number from 2 (WORKER_MAX_CACHED_WORKFLOWS).`);
  const loadBefore = loadavg();
  const scratch = mkdtempSync(join(tmpdir(), 'bench-idle-'));
  // Killed (Ctrl-C, a timeout's SIGTERM), the bench takes its worker and dev server down with it.
  let worker: ChildProcess | undefined;
  let server: DevServer | undefined;
  const abort = (signal: NodeJS.Signals) => {
    worker?.kill('SIGKILL');
    void (server?.stop() ?? Promise.resolve())
      .catch(() => undefined)
      .finally(() => {
        rmSync(scratch, { recursive: true, force: true });
        process.exit(signal === 'SIGINT' ? 130 : 143);
      });
  };
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    const bundlePath = join(scratch, 'workflow-bundle.js');
    writeFileSync(bundlePath, await buildWorkflowBundle());
    const dbFile = join(scratch, 'temporal.db');
    // Write-ahead log, synced at checkpoints: SQLite's default (a rollback journal, synced at
    // every commit) makes the dev server's writes the bottleneck, and its requests time out.
    server = await startDevServer({ executable: findTemporalCli(process.env), dbFilename: dbFile, sqlitePragmas: SQLITE_PRAGMAS });
    const serverPid = childProcessesNamed(process.pid, 'temporal')[0];
    const model = await startGeminiServer({ respond: offlineModel });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, dataConverter: testDataConverter });
    const taskQueue = `bench-idle-${crypto.randomUUID().slice(0, 8)}`;
    const dbBefore = databaseBytes(dbFile);
    const metricsPort = await freePort();
    worker = spawn(process.execPath, [WORKER_MAIN], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: taskQueue,
        GOOGLE_API_KEY: 'bench-key',
        // The worker encrypts payloads as in production; the bench's client reads them with the same keys.
        PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON,
        GEMINI_BASE_URL: model.url,
        TRANSCRIPT_DIR: join(scratch, 'transcripts'),
        SCHEDULES_SYNC_AT_START: 'false',
        WORKFLOW_BUNDLE_PATH: bundlePath,
        WORKER_MAX_CACHED_WORKFLOWS: String(cachedWorkflows),
        // The SDK's metrics, for the sticky cache's size.
        METRICS_PROMETHEUS_BIND: `127.0.0.1:${metricsPort}`,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const workerPid = worker.pid!;
    let workerOutput = '';
    worker.stderr!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
    const workerExited = new Promise<void>((resolve) => worker!.once('exit', () => resolve()));
    const rssSamples: number[] = [];
    const sampler = setInterval(() => rssSamples.push(memoryOf(workerPid)?.rss ?? 0), 1000);
    const cacheSize = () => stickyCacheSize(metricsPort);
    const ids = Array.from({ length: count }, (_, index) => `bench-idle:${taskQueue}:${index}`);
    let openMs = 0;
    const probeMs: number[] = [];
    const checkpoints: { open: number; seconds: number; rss_bytes: number; cached_workflows: number | undefined }[] = [];
    const cpu = { worker: 0, server: 0, bench: 0 };
    let rssOpen = 0;
    let cachedOpen: number | undefined;
    let rssEnd = 0;
    let cachedEnd: number | undefined;
    try {
      const opening = performance.now();
      const cpuBefore = { worker: cpuSecondsOf(workerPid), server: serverPid ? cpuSecondsOf(serverPid) : 0, bench: process.cpuUsage() };
      let next = 0;
      let opened = 0;
      let nextCheckpoint = 1;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < ids.length) {
            const id = ids[next++]!;
            await openConversation(client, taskQueue, id);
            opened += 1;
            if (opened >= Math.ceil((nextCheckpoint * count) / CHECKPOINTS)) {
              nextCheckpoint += 1;
              const seconds = round((performance.now() - opening) / 1000);
              const point = { open: opened, seconds, rss_bytes: memoryOf(workerPid)?.rss ?? 0, cached_workflows: await cacheSize() };
              checkpoints.push(point);
              log(
                `idle-conversations: ${opened} of ${count} open in ${seconds} s (${round(opened / seconds)}/s); worker RSS ${formatBytes(point.rss_bytes)}, ${point.cached_workflows ?? '?'} workflows cached`,
              );
            }
          }
        }),
      );
      openMs = performance.now() - opening;
      cpu.worker = round(cpuSecondsOf(workerPid) - cpuBefore.worker);
      cpu.server = serverPid ? round(cpuSecondsOf(serverPid) - cpuBefore.server) : 0;
      const benchCpu = process.cpuUsage(cpuBefore.bench);
      cpu.bench = round((benchCpu.user + benchCpu.system) / 1e6);
      rssOpen = memoryOf(workerPid)?.rss ?? 0;
      cachedOpen = await cacheSize();
      log(
        `idle-conversations: ${count} open in ${Math.round(openMs / 1000)} s; worker RSS ${formatBytes(rssOpen)}, ${cachedOpen ?? '?'} cached; probing ${probes} at random`,
      );
      for (let probe = 0; probe < probes; probe += 1) {
        const id = ids[Math.floor(Math.random() * ids.length)]!;
        const turns = await client.workflow.getHandle(id).query<TurnSummary[]>(TURNS_QUERY);
        const started = performance.now();
        await askAndWait(client, taskQueue, id, turns.length + 1, 20);
        probeMs.push(round(performance.now() - started));
      }
      rssEnd = memoryOf(workerPid)?.rss ?? 0;
      cachedEnd = await cacheSize();
    } finally {
      clearInterval(sampler);
      worker.kill('SIGTERM');
      await workerExited;
      await connection.close();
      await model.close();
    }
    await server.stop();
    // Stopped, the server has checkpointed its write-ahead log into the file.
    const dbAfter = databaseBytes(dbFile);

    const peakRss = Math.max(0, ...rssSamples);
    const p99 = percentile(probeMs, 99);
    const openSeconds = round(openMs / 1000);
    const section = {
      goals: GOALS,
      conversations: count,
      open_seconds: openSeconds,
      opened_per_second: round(count / openSeconds),
      open_concurrency: concurrency,
      cached_workflows_setting: cachedWorkflows,
      worker_peak_rss_bytes: peakRss,
      worker_rss_met: peakRss <= GOALS.worker_rss_at_most_bytes,
      /** The worker's RSS and the SDK's sticky cache size (its `temporal_sticky_cache_size` gauge) as conversations opened, then after the probes. */
      worker_rss: {
        after_opening_bytes: rssOpen,
        cached_after_opening: cachedOpen,
        at_end_bytes: rssEnd,
        cached_at_end: cachedEnd,
        while_opening: checkpoints,
      },
      /** CPU seconds each process spent while the conversations opened (the bench: its client and the model stand-in). */
      cpu_seconds_opening: cpu,
      /** All three, per conversation opened: on two cores, opening takes at least this × conversations ÷ 2. */
      cpu_seconds_per_conversation: round((cpu.worker + cpu.server + cpu.bench) / count, 3),
      message_to_random: {
        probes,
        p50_ms: percentile(probeMs, 50),
        p99_ms: p99,
        max_ms: Math.max(...probeMs),
        met: p99 <= GOALS.message_to_random_p99_beyond_model_ms,
      },
      server_db_bytes_per_conversation: Math.round((dbAfter - dbBefore) / count),
      machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', node: process.version },
      load_average: { before: loadBefore.map((value) => round(value, 2)), after: loadavg().map((value) => round(value, 2)) },
      about: `worker/main.ts (prebuilt bundle, WORKER_MAX_CACHED_WORKFLOWS=${cachedWorkflows}) and a dev server kept in a SQLite file (${Object.entries(
        SQLITE_PRAGMAS,
      )
        .map(([pragma, value]) => `${pragma}=${value}`)
        .join(
          ', ',
        )}); the offline model answers at once with one tool call, so the message figures are all beyond model time; the machine is shared`,
      ...(workerOutput.includes('Error')
        ? {
            worker_errors: workerOutput
              .split('\n')
              .filter((line) => line.includes('Error'))
              .slice(0, 5),
          }
        : {}),
    };
    const text = table(
      `${count} open conversations on one worker (sticky cache ${cachedWorkflows})`,
      ['figure', 'value', 'goal'],
      [
        ['worker RSS, peak', formatBytes(peakRss), `≤ ${formatBytes(GOALS.worker_rss_at_most_bytes)} (at 10,000)`],
        [
          'worker RSS, all open / at the end',
          `${formatBytes(rssOpen)} (${cachedOpen ?? '?'} cached) / ${formatBytes(rssEnd)} (${cachedEnd ?? '?'} cached)`,
          `cache ≤ ${cachedWorkflows}`,
        ],
        ['message to a random one, p50', `${section.message_to_random.p50_ms} ms`, ''],
        ['message to a random one, p99', `${p99} ms`, `≤ ${GOALS.message_to_random_p99_beyond_model_ms} ms beyond model time`],
        ['server database per conversation', formatBytes(section.server_db_bytes_per_conversation), 'reported'],
        ['time to open them all', `${openSeconds} s (${section.opened_per_second}/s, ${concurrency} at once)`, ''],
        [
          'CPU while opening: worker / dev server / bench',
          `${cpu.worker} s / ${cpu.server} s / ${cpu.bench} s (${section.cpu_seconds_per_conversation} s a conversation)`,
          '',
        ],
      ],
    );
    return { section, text };
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Sends a conversation its first message and waits for that turn: one long poll on the result
 * of its run (the child `<id>/turn-1`, started once the message is taken), then the turns query
 * until the conversation has recorded the answer (it replies first, a moment after the run).
 */
async function openConversation(client: Client, taskQueue: string, conversationId: string): Promise<void> {
  const { turn } = await send(client, taskQueue, conversationId);
  const deadline = Date.now() + 120_000;
  const run = client.workflow.getHandle(`${conversationId}/turn-${turn}`);
  for (;;) {
    try {
      await run.result();
      break;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      if (Date.now() > deadline) throw new Error(`turn ${turn} of ${conversationId} never started within 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await waitForAnswer(client, conversationId, turn, 50, deadline);
}

/** Sends one message and waits until that turn is answered (the conversation's turns query). */
async function askAndWait(client: Client, taskQueue: string, conversationId: string, turn: number, pollMs: number): Promise<void> {
  await send(client, taskQueue, conversationId);
  await waitForAnswer(client, conversationId, turn, pollMs, Date.now() + 120_000);
}

function send(client: Client, taskQueue: string, conversationId: string) {
  return sendMessage(client, {
    conversationId,
    taskQueue,
    start: { agent: 'assistant', channel: { kind: 'none' } },
    message: { id: `bench-${crypto.randomUUID()}`, text: QUESTION, user: { id: 'U-BENCH' }, receivedAt: new Date().toISOString() },
  });
}

async function waitForAnswer(client: Client, conversationId: string, turn: number, pollMs: number, deadline: number): Promise<void> {
  const handle = client.workflow.getHandle(conversationId);
  for (;;) {
    const turns = await handle.query<TurnSummary[]>(TURNS_QUERY);
    const status = turns.find((summary) => summary.turn === turn)?.status;
    if (status === 'answered') return;
    if (status && status !== 'running' && status !== 'queued') throw new Error(`turn ${turn} of ${conversationId} ended ${status}`);
    if (Date.now() > deadline) throw new Error(`turn ${turn} of ${conversationId} not answered within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Workflows in the worker's sticky cache, from its Prometheus endpoint; undefined when it cannot be read. */
async function stickyCacheSize(port: number): Promise<number | undefined> {
  try {
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const values = [...body.matchAll(/^temporal_sticky_cache_size(?:\{[^}]*\})? (\S+)$/gm)].map((match) => Number(match[1]));
    return values.length ? values.reduce((sum, value) => sum + value, 0) : undefined;
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The SQLite file with its write-ahead log. */
function databaseBytes(file: string): number {
  return [file, `${file}-wal`, `${file}-shm`].reduce((sum, path) => {
    try {
      return sum + statSync(path).size;
    } catch {
      return sum;
    }
  }, 0);
}
