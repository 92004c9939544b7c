import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { TEST_PAYLOAD_KEYS_JSON, testDataConverter } from '../testkit/payload-keys.ts';
import { sendMessage } from '../temporal-client/send-message.ts';
import { TURNS_QUERY, type TurnSummary } from '../core/conversation.ts';
import { startGeminiServer } from '../local/gemini-server.ts';
import { offlineModel } from '../local/offline-model.ts';
import { findTemporalCli, startDevServer } from '../local/temporal-dev-server.ts';
import { buildWorkflowBundle } from '../worker/workflow-bundle.ts';
import { formatBytes, percentile, round, table } from './report.ts';

const WORKER_MAIN = fileURLToPath(new URL('../worker/main.ts', import.meta.url));
const GOALS = { worker_rss_at_most_bytes: 2 * 1024 ** 3, message_to_random_p99_beyond_model_ms: 1000 } as const;
const QUESTION = 'What time is it in Tokyo right now?';

export interface IdleConversationsBenchOptions {
  /** Open conversations, each answered once and then waiting. @default 500 (the size: 10,000) */
  conversations?: number;
  /** Messages then sent to random ones, one at a time. @default 50 */
  probes?: number;
  /** Conversations opened at once. @default 16 */
  concurrency?: number;
  log?: (line: string) => void;
}

/**
 * Many open conversations, each waiting for its next message, on one worker (`worker/main.ts`
 * with the prebuilt bundle, its own process) and a dev server kept in a file: the worker's
 * RSS, how long a message to a random one of them takes to be answered (the offline model
 * answers at once, with one tool call), and the server's database size per conversation.
 */
export async function runIdleConversationsBench(options: IdleConversationsBenchOptions = {}): Promise<{ section: unknown; text: string }> {
  const count = options.conversations ?? 500;
  const probes = options.probes ?? 50;
  const concurrency = options.concurrency ?? 16;
  const log = options.log ?? (() => undefined);
  const loadBefore = loadavg();
  const scratch = mkdtempSync(join(tmpdir(), 'bench-idle-'));
  const bundlePath = join(scratch, 'workflow-bundle.js');
  writeFileSync(bundlePath, await buildWorkflowBundle());
  const dbFile = join(scratch, 'temporal.db');
  const server = await startDevServer({ executable: findTemporalCli(process.env), dbFilename: dbFile });
  const model = await startGeminiServer({ respond: offlineModel });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter: testDataConverter });
  const taskQueue = `bench-idle-${crypto.randomUUID().slice(0, 8)}`;
  const dbBefore = databaseBytes(dbFile);
  const worker = spawn(process.execPath, [WORKER_MAIN], {
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
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let workerOutput = '';
  worker.stderr!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  const workerExited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const rssSamples: number[] = [];
  const sampler = setInterval(() => rssSamples.push(rssOf(worker.pid!)), 1000);
  const ids = Array.from({ length: count }, (_, index) => `bench-idle:${taskQueue}:${index}`);
  let openMs = 0;
  const probeMs: number[] = [];
  try {
    const opening = performance.now();
    let next = 0;
    let opened = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          await askAndWait(client, taskQueue, id, 1, 250);
          opened += 1;
          if (opened % 100 === 0) log(`idle-conversations: ${opened} of ${count} open`);
        }
      }),
    );
    openMs = performance.now() - opening;
    const rssIdle = rssOf(worker.pid!);
    log(
      `idle-conversations: ${count} open in ${Math.round(openMs / 1000)} s; worker RSS ${formatBytes(rssIdle)}; probing ${probes} at random`,
    );
    for (let probe = 0; probe < probes; probe += 1) {
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      const turns = await client.workflow.getHandle(id).query<TurnSummary[]>(TURNS_QUERY);
      const started = performance.now();
      await askAndWait(client, taskQueue, id, turns.length + 1, 20);
      probeMs.push(round(performance.now() - started));
    }
  } finally {
    clearInterval(sampler);
    worker.kill('SIGTERM');
    await workerExited;
    await connection.close();
    await model.close();
  }
  const dbAfter = databaseBytes(dbFile);
  await server.stop();
  rmSync(scratch, { recursive: true, force: true });

  const peakRss = Math.max(0, ...rssSamples);
  const p99 = percentile(probeMs, 99);
  const section = {
    goals: GOALS,
    conversations: count,
    open_seconds: round(openMs / 1000),
    worker_peak_rss_bytes: peakRss,
    worker_rss_met: peakRss <= GOALS.worker_rss_at_most_bytes,
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
    about:
      'worker/main.ts (prebuilt bundle, the SDK default sticky cache) and a dev server kept in a SQLite file; the offline model answers at once with one tool call, so the message figures are all beyond model time; the machine is shared',
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
    `${count} open conversations on one worker`,
    ['figure', 'value', 'goal'],
    [
      ['worker RSS, peak', formatBytes(peakRss), `≤ ${formatBytes(GOALS.worker_rss_at_most_bytes)} (at 10,000)`],
      ['message to a random one, p50', `${section.message_to_random.p50_ms} ms`, ''],
      ['message to a random one, p99', `${p99} ms`, `≤ ${GOALS.message_to_random_p99_beyond_model_ms} ms beyond model time`],
      ['server database per conversation', formatBytes(section.server_db_bytes_per_conversation), 'reported'],
      ['time to open them all', `${section.open_seconds} s`, ''],
    ],
  );
  return { section, text };
}

/** Sends one message and waits until that turn is answered (the conversation's turns query). */
async function askAndWait(client: Client, taskQueue: string, conversationId: string, turn: number, pollMs: number): Promise<void> {
  await sendMessage(client, {
    conversationId,
    taskQueue,
    start: { agent: 'assistant', channel: { kind: 'none' } },
    message: { id: `bench-${crypto.randomUUID()}`, text: QUESTION, user: { id: 'U-BENCH' }, receivedAt: new Date().toISOString() },
  });
  const handle = client.workflow.getHandle(conversationId);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const turns = await handle.query<TurnSummary[]>(TURNS_QUERY);
    const status = turns.find((summary) => summary.turn === turn)?.status;
    if (status === 'answered') return;
    if (status && status !== 'running' && status !== 'queued') throw new Error(`turn ${turn} of ${conversationId} ended ${status}`);
    if (Date.now() > deadline) throw new Error(`turn ${turn} of ${conversationId} not answered within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function rssOf(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
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
