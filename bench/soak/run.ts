import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { desiredSchedule } from '../../temporal-client/schedule-spec.ts';
import { APPROVAL_ACTION_IDS } from '../../events/inbound-event.ts';
import type { TriggerSpec } from '../../core/triggers.ts';
import type { GeminiReply, GeminiRequest } from '../../local/gemini-server.ts';
import type { SlackStoredMessage } from '../../local/slack-api-server.ts';
import { toolActivityRecord } from '../faults/history.ts';
import { classifyToolCall, type ToolCallRecord } from '../faults/count.ts';
import { faultScript } from '../faults/script.ts';
import { PERSON, startFaultStack, TASK_QUEUE, type FaultStack } from '../faults/stack.ts';
import { createTraffic, sleep, type PlannedMessage } from '../faults/traffic.ts';
import { childProcessesNamed, memoryOf } from '../proc.ts';
import { formatBytes, saveSection } from '../report.ts';
import {
  countAnswers,
  growthOfLongestLife,
  matchAmbientPosts,
  parseFaultKinds,
  planFaults,
  seededRandom,
  SOAK_FAULT_KINDS,
  type Expected,
  type PlannedFault,
  type Sample,
  type SoakFaultKind,
} from './measure.ts';

// `npm run soak -- --minutes N [--seed S] [--faults KINDS] [--cached-workflows N] [--keep]`:
// the faults harness's whole local stack (dev server, worker, dispatcher, moto, the Slack and
// email edges, the Gemini, Slack and IP stand-ins) under mixed traffic for N minutes: Slack
// questions, emails, expense claims whose approval is clicked, and an ambient schedule firing
// every minute. Faults come at seeded random moments: the worker killed and started again, the
// worker's and dispatcher's connection to Temporal cut, the model answering errors
// (`--faults temporal-cut,model-errors` keeps one worker for the whole run, so its memory can be
// judged). Then the answers are counted (exactly once, lost), and each process's RSS and open
// handles, sampled through the run, are checked for growth after a warm-up. Written to
// bench/results.json under `soak` (`soak_one_worker` without worker kills). Exits 0 when
// nothing was lost or answered twice.

/** The worker's sticky cache: a few minutes of the soak's conversations, so its memory levels off early in a run. */
const DEFAULT_CACHED_WORKFLOWS = 50;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    faults: { type: 'string', default: SOAK_FAULT_KINDS.join(',') },
    'cached-workflows': { type: 'string', default: String(DEFAULT_CACHED_WORKFLOWS) },
  },
});
const minutes = Number(values.minutes);
const seed = Number(values.seed);
if (!Number.isFinite(minutes) || minutes < 1 || minutes > 24 * 60) {
  console.error(`--minutes ${values.minutes}: give a number of minutes from 1 to 1440.`);
  process.exit(2);
}
if (!Number.isInteger(seed)) {
  console.error(`--seed ${values.seed}: give an integer.`);
  process.exit(2);
}
let faultKinds: SoakFaultKind[];
try {
  faultKinds = parseFaultKinds(values.faults);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const cachedWorkflows = Number(values['cached-workflows']);
if (!Number.isInteger(cachedWorkflows) || cachedWorkflows < 2) {
  console.error(`--cached-workflows ${values['cached-workflows']}: give a whole number from 2 (WORKER_MAX_CACHED_WORKFLOWS).`);
  process.exit(2);
}

const AMBIENT_CHANNEL = 'C0SOAKAMB';
const AMBIENT_TRIGGER = 'soak-tick';
const SAMPLE_EVERY_MS = 5000;
const DATA_SAMPLE_EVERY_MS = 30_000;
/**
 * After the traffic stops, the wait for the backlog: it ends when every accepted message is
 * answered, or when no new answer came for QUIET_MS (then the unanswered count as lost), and
 * never lasts past ANSWER_CAP_MS. A loaded machine drains slowly; a stuck one goes quiet.
 */
const QUIET_MS = 90_000;
const ANSWER_CAP_MS = 15 * 60_000;
const SETTLE_MS = 5000;
const GROWTH_GOAL_PERCENT = 5;

const durationMs = Math.round(minutes * 60_000);
/** Of each process's life: its start, the stack's first requests and the JIT settle in it. */
const warmupMs = Math.min(60_000, durationMs / 4);
const random = seededRandom(seed);
const faultPlan = planFaults(random, { durationMs, minGapMs: 25_000, maxGapMs: 60_000, quietTailMs: 15_000, kinds: faultKinds });

const started = Date.now();
const since = () => Date.now() - started;
const log = (line: string) => console.error(`[soak ${(since() / 1000).toFixed(0).padStart(4)} s] ${line}`);
const loadStart = loadavg()[0]!;
const runDir = mkdtempSync(join(tmpdir(), 'soak-'));
console.log(
  `npm run soak: ${minutes} min, seed ${seed}, ${faultPlan.length} fault(s) planned (${faultKinds.join(', ') || 'none'}), worker cache ${cachedWorkflows}, on ${cpus().length} CPUs, Node ${process.version}, load average ${loadStart.toFixed(2)}; logs in ${runDir}/logs`,
);

/** The faults script, and the ambient trigger's run: a post naming the moment the run began. */
function soakScript(request: GeminiRequest): GeminiReply {
  const asked = JSON.stringify(request.body.contents ?? []);
  const runAt = new RegExp(`Scheduled run of trigger \\\\?"${AMBIENT_TRIGGER}\\\\?" at (\\S+Z)\\.`).exec(asked)?.[1];
  if (runAt) return { content: { role: 'model', parts: [{ text: `AMBIENT ${runAt}` }] } };
  return faultScript(request);
}

const stack = await startFaultStack({
  runDir,
  script: soakScript,
  log,
  proxyTemporal: true,
  // A bounded cache: the conversations pile up (each message opens one), and the worker's memory levels off once it is full.
  workerSettings: { WORKER_MAX_CACHED_WORKFLOWS: String(cachedWorkflows) },
});
process.once('SIGINT', () => void stack.close().then(() => process.exit(130)));
const traffic = createTraffic(stack, log);
const ambientPosts = new Map<string, Map<string, number>>();
const approvalRequests = new Set<string>();
stack.controls.recordSlack = (message: SlackStoredMessage) => {
  traffic.onSlackChange(message);
  if (!message.botId) return;
  if (JSON.stringify(message.blocks ?? []).includes(APPROVAL_ACTION_IDS.approve)) approvalRequests.add(message.ts);
  const runAt = message.channel === AMBIENT_CHANNEL ? /AMBIENT (\S+)/.exec(message.text)?.[1] : undefined;
  if (runAt) {
    const byTs = ambientPosts.get(runAt) ?? new Map<string, number>();
    if (!byTs.has(message.ts)) byTs.set(message.ts, Date.now());
    ambientPosts.set(runAt, byTs);
  }
};
log('stack ready');
// SES's sent mail is read every 2 s, so an email's answer is timed when it went out; one read at a time (two would count a reply twice).
let emailRead: Promise<void> | undefined;
const pollEmail = (): Promise<void> => (emailRead ??= traffic.pollEmail().finally(() => (emailRead = undefined)));
const emailPoller = setInterval(() => void pollEmail().catch(() => undefined), 2000);

// The ambient schedule: a chat-made one of the assistant, every minute, posting to its channel.
const trigger: TriggerSpec = {
  id: AMBIENT_TRIGGER,
  every: '1 minute',
  timezone: 'UTC',
  prompt: 'Post the soak tick.',
  deliver: { kind: 'slack', channel: AMBIENT_CHANNEL },
  approvers: [],
};
const schedule = desiredSchedule(
  'assistant',
  trigger,
  { taskQueue: TASK_QUEUE, deployment: 'soak' },
  { owner: PERSON, conversationId: 'soak' },
);
const scheduleHandle = await stack.temporal.client().schedule.create(schedule.options);

// Sampling: each process's RSS and open file descriptors, and the size of what it keeps on disk.
type Process = 'soak (edges, stand-ins)' | 'worker' | 'dispatcher' | 'temporal' | 'moto';
const samples = new Map<Process, { rss: (Sample & { pid: number })[]; handles: (Sample & { pid: number })[] }>();
const motoPid = childProcessesNamed(process.pid, 'moto')[0];
const pids = (): [Process, number | undefined][] => [
  ['soak (edges, stand-ins)', process.pid],
  ['worker', stack.worker.pid],
  ['dispatcher', stack.dispatcher.pid],
  ['temporal', stack.temporal.pid],
  ['moto', motoPid],
];
function sampleProcesses(): void {
  for (const [name, pid] of pids()) {
    if (pid === undefined) continue;
    const memory = memoryOf(pid);
    const handles = openHandles(pid);
    if (!memory || handles === undefined) continue;
    const entry = samples.get(name) ?? { rss: [], handles: [] };
    entry.rss.push({ atMs: since(), pid, value: memory.rss });
    entry.handles.push({ atMs: since(), pid, value: handles });
    samples.set(name, entry);
  }
}
const dataDirs = { 'worker .data/': join(runDir, 'worker', '.data'), 'temporal database': join(runDir, 'temporal') };
const dataSamples: { atMs: number; bytes: Record<string, number> }[] = [];
const sampleData = () =>
  dataSamples.push({ atMs: since(), bytes: Object.fromEntries(Object.entries(dataDirs).map(([name, dir]) => [name, bytesUnder(dir)])) });
sampleProcesses();
sampleData();
const sampler = setInterval(sampleProcesses, SAMPLE_EVERY_MS);
const dataSampler = setInterval(sampleData, DATA_SAMPLE_EVERY_MS);

// Traffic: a message every 2 to 6 s (what two shared cores drain), one in five an email, one in eight an expense claim (approved by a click).
const trafficStart = Date.now();
const sent: PlannedMessage[] = [];
const sends: Promise<void>[] = [];
async function sendTraffic(): Promise<void> {
  while (Date.now() - trafficStart < durationMs) {
    const roll = random();
    const [message] =
      roll < 0.2
        ? traffic.plan(1, { emailEvery: 1 })
        : roll < 0.325
          ? traffic.plan(1, { emailEvery: 0, expenseAt: [0] })
          : traffic.plan(1, { emailEvery: 0 });
    message!.sentAt = Date.now();
    sent.push(message!);
    sends.push(traffic.send([message!], 0));
    await sleep(2000 + random() * 4000);
  }
}

const faultLog: { kind: string; atMs: number; forMs: number; note: string }[] = [];
async function injectFaults(): Promise<void> {
  for (const fault of faultPlan) {
    const wait = trafficStart + fault.atMs - Date.now();
    if (wait > 0) await sleep(wait);
    const begin = Date.now();
    const note = await inject(stack, fault);
    faultLog.push({ kind: fault.kind, atMs: begin - trafficStart, forMs: Date.now() - begin, note });
    log(`fault ${fault.kind}: ${note}`);
  }
}
async function inject(target: FaultStack, fault: PlannedFault): Promise<string> {
  switch (fault.kind) {
    case 'worker-kill': {
      const before = target.worker.pid;
      await target.worker.kill();
      await target.worker.start();
      return `worker ${before} killed, ${target.worker.pid} polling`;
    }
    case 'temporal-cut':
      target.temporalProxy!.cut();
      await sleep(fault.forMs);
      target.temporalProxy!.restore();
      return `worker's and dispatcher's connections to Temporal cut for ${(fault.forMs / 1000).toFixed(1)} s`;
    case 'model-errors': {
      const status = fault.forMs % 2 === 0 ? 503 : 429;
      target.controls.modelFault = status === 429 ? { status, retryAfterSeconds: 3 } : { status };
      await sleep(fault.forMs);
      delete target.controls.modelFault;
      return `model answered ${status} for ${(fault.forMs / 1000).toFixed(1)} s`;
    }
  }
}

let failed = false;
let drainSeconds = 0;
let result: { section: Record<string, unknown>; ok: boolean; text: string } | undefined;
try {
  await Promise.all([sendTraffic(), injectFaults()]);
  log(`traffic over: ${sent.length} messages sent; waiting for the answers`);
  await scheduleHandle.delete();
  await Promise.all(sends);
  const cap = Date.now() + ANSWER_CAP_MS;
  const unanswered = () =>
    sent.filter((message) => message.acceptedAt !== undefined && !traffic.answers().get(message.marker)?.length).length;
  let waiting = unanswered();
  let lastProgress = Date.now();
  while (Date.now() < cap && Date.now() - lastProgress < QUIET_MS) {
    await pollEmail();
    const now = unanswered();
    if (now === 0 && (await ambientRunning()) === 0) break;
    if (now < waiting) {
      waiting = now;
      lastProgress = Date.now();
    }
    await sleep(1000);
  }
  drainSeconds = Math.round((Date.now() - trafficStart - durationMs) / 1000);
  log(`backlog drained in ${drainSeconds} s; ${unanswered()} message(s) unanswered`);
  await sleep(SETTLE_MS);
  await pollEmail();
  result = await report();
} catch (error) {
  failed = true;
  log(`the soak failed: ${(error as Error).stack ?? String(error)}`);
} finally {
  clearInterval(emailPoller);
  clearInterval(sampler);
  clearInterval(dataSampler);
  await stack.close();
}

async function ambientRunning(): Promise<number> {
  let running = 0;
  for await (const _ of stack.temporal.client().workflow.list({ query: `WorkflowType = 'ambientRun' AND ExecutionStatus = 'Running'` }))
    running += 1;
  return running;
}

async function report(): Promise<{ section: Record<string, unknown>; ok: boolean; text: string }> {
  const runs: { id: string; startedAt: number }[] = [];
  for await (const execution of stack.temporal.client().workflow.list({ query: `WorkflowType = 'ambientRun'` }))
    runs.push({ id: execution.workflowId, startedAt: execution.startTime.getTime() });
  const ambientAnswers = matchAmbientPosts(runs, new Map([...ambientPosts].map(([runAt, byTs]) => [runAt, [...byTs.values()]])));
  const answers = new Map([...traffic.answers(), ...ambientAnswers]);
  const expected: Expected[] = [
    ...sent.map((message) => ({
      key: message.marker,
      kind: message.channel === 'email' ? 'email' : message.kind === 'expense' ? 'slack expense (approved)' : 'slack',
      sentAt: message.sentAt,
      accepted: message.acceptedAt !== undefined,
    })),
    ...runs.map((run) => ({ key: run.id, kind: 'ambient run', sentAt: run.startedAt, accepted: true })),
  ];
  const counts = countAnswers(expected, answers);
  const all = counts[0]!;
  // Which ones missed, and when their answers came (seconds after the traffic began), to set beside the faults.
  const seconds = (at: number) => Math.round((at - trafficStart) / 100) / 10;
  const misses = expected
    .filter((entry) => entry.accepted && (answers.get(entry.key)?.length ?? 0) !== 1)
    .map((entry) => ({
      key: entry.key,
      kind: entry.kind,
      sentAtSeconds: seconds(entry.sentAt),
      answersAtSeconds: (answers.get(entry.key) ?? []).map(seconds),
    }));
  // A tool that ran more than once: an attempt in flight at a kill, a read-only call whose task was lost (allowed), or a finished call repeated (not).
  let finishedToolCallsRepeated = 0;
  let toolReruns = 0;
  for (const message of sent.filter((entry) => entry.acceptedAt !== undefined && entry.conversationId)) {
    const executions = traffic.toolExecutions(message.marker, message.kind);
    if (executions <= 1) continue;
    // The IP lookup is read-only; the expense claim is an activity whose history says which runs were retries.
    const record: ToolCallRecord = { marker: message.marker, executions };
    if (message.kind === 'expense') {
      const recorded = await toolActivityRecord(stack.temporal.client(), `${message.conversationId}/turn-1`, 'tool:submit_expense').catch(
        () => undefined,
      );
      if (recorded) Object.assign(record, recorded);
    } else {
      record.readOnly = true;
    }
    const { inFlight, finishedRepeated } = classifyToolCall(record);
    toolReruns += inFlight;
    finishedToolCallsRepeated += finishedRepeated;
  }
  sampleData();
  const processes = [...samples].map(([name, series]) => {
    const rss = growthOfLongestLife(series.rss, warmupMs);
    const handles = growthOfLongestLife(series.handles, warmupMs);
    const lives = new Set(series.rss.map((sample) => sample.pid)).size;
    return {
      process: name,
      lives,
      rss: rss && { ...rss, meetsGoal: rss.percent <= GROWTH_GOAL_PERCENT },
      openHandles: handles && { ...handles, meetsGoal: handles.percent <= GROWTH_GOAL_PERCENT },
      // At most 24 of the samples, evenly spread, one line each: seconds since start, pid, RSS, open handles.
      series: spread(series.rss.length, 24).map(
        (index) =>
          `${Math.round(series.rss[index]!.atMs / 1000)} s, pid ${series.rss[index]!.pid}: ${formatBytes(series.rss[index]!.value)}, ${series.handles[index]!.value} handles`,
      ),
    };
  });
  const first = dataSamples[0]!;
  const last = dataSamples.at(-1)!;
  const data = Object.keys(dataDirs).map((name) => {
    const grew = last.bytes[name]! - first.bytes[name]!;
    return {
      what: name,
      startBytes: first.bytes[name]!,
      endBytes: last.bytes[name]!,
      growthBytes: grew,
      bytesPerMinute: Math.round(grew / ((last.atMs - first.atMs) / 60_000 || 1)),
      bytesPerAnswer: all.exactlyOnce > 0 ? Math.round(grew / all.exactlyOnce) : null,
    };
  });
  const growthMet = processes.every((entry) => (entry.rss?.meetsGoal ?? true) && (entry.openHandles?.meetsGoal ?? true));
  const ok = all.lost === 0 && all.answeredMoreThanOnce === 0 && finishedToolCallsRepeated === 0 && all.expected > 0;
  const defaultFaults = faultKinds.length === SOAK_FAULT_KINDS.length;
  const command = `npm run soak -- --minutes ${minutes}${seed !== 1 ? ` --seed ${seed}` : ''}${defaultFaults ? '' : ` --faults ${faultKinds.join(',') || 'none'}`}${cachedWorkflows !== DEFAULT_CACHED_WORKFLOWS ? ` --cached-workflows ${cachedWorkflows}` : ''}`;
  const section = {
    command,
    date: new Date().toISOString(),
    minutes,
    seed,
    faultKinds,
    workerCachedWorkflows: cachedWorkflows,
    wallSeconds: Math.round(since() / 1000),
    loadAverage: { start: loadStart, end: loadavg()[0]! },
    goals: { lost: 0, answeredMoreThanOnce: 0, finishedToolCallsRepeated: 0, growthAfterWarmupAtMostPercent: GROWTH_GOAL_PERCENT },
    warmupSeconds: warmupMs / 1000,
    /** From the traffic's end until every message was answered (or the wait went quiet). */
    drainSeconds,
    growthMethod:
      "each process's longest life (a killed worker comes back with a new pid): mean of the last quarter of the samples after the warm-up against the mean of the first quarter",
    answers: counts,
    misses,
    approvalsClicked: approvalRequests.size,
    finishedToolCallsRepeated,
    toolReruns,
    faults: faultLog,
    processes,
    data,
    meetsGoal: { exactlyOnce: ok, growth: growthMet },
  };
  const text = [
    `${command}: ${section.wallSeconds} s (the backlog drained ${drainSeconds} s after the traffic), load average ${loadStart.toFixed(1)} → ${section.loadAverage.end.toFixed(1)}, ${faultLog.length} fault(s), ${approvalRequests.size} approval(s) clicked`,
    '',
    '| traffic | expected | exactly once | more than once | lost | not accepted | p50 end to end | p99 end to end |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...counts.map(
      (count) =>
        `| ${count.kind} | ${count.expected} | ${count.exactlyOnce} | ${count.answeredMoreThanOnce} | ${count.lost} | ${count.notAccepted} | ${count.endToEndMs ? `${count.endToEndMs.p50} ms` : '–'} | ${count.endToEndMs ? `${count.endToEndMs.p99} ms` : '–'} |`,
    ),
    '',
    `| process | lives | RSS after warm-up | RSS growth | open handles | handles growth |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...processes.map(
      (entry) =>
        `| ${entry.process} | ${entry.lives} | ${entry.rss ? `${formatBytes(entry.rss.baseline)} → ${formatBytes(entry.rss.end)}` : '–'} | ${entry.rss ? `${entry.rss.percent}%` : '–'} | ${entry.openHandles ? `${entry.openHandles.baseline} → ${entry.openHandles.end}` : '–'} | ${entry.openHandles ? `${entry.openHandles.percent}%` : '–'} |`,
    ),
    '',
    ...data.map(
      (entry) =>
        `- ${entry.what}: ${formatBytes(entry.startBytes)} → ${formatBytes(entry.endBytes)} (${formatBytes(entry.bytesPerMinute)} a minute)`,
    ),
    `- finished tool calls repeated: ${finishedToolCallsRepeated}; tool calls run again (read-only, or in flight at a fault): ${toolReruns}`,
    ...misses.map(
      (miss) =>
        `- ${miss.kind} ${miss.key}, sent at +${miss.sentAtSeconds} s: ${miss.answersAtSeconds.length === 0 ? 'never answered' : `answered at ${miss.answersAtSeconds.map((at) => `+${at} s`).join(', ')}`}`,
    ),
    ...faultLog.map((fault) => `- +${(fault.atMs / 1000).toFixed(0)} s ${fault.kind}: ${fault.note}`),
  ].join('\n');
  return { section, ok, text };
}

if (result) {
  // A run that keeps its one worker is kept beside the default run, not over it.
  saveSection(faultKinds.includes('worker-kill') ? 'soak' : 'soak_one_worker', result.section);
  console.log(`\n${result.text}\n`);
  console.log(
    result.ok
      ? 'Every message and ambient run answered exactly once; nothing lost.'
      : 'The goal is missed: something was lost or answered twice (see above).',
  );
}
const ok = !failed && result?.ok === true;
if (ok && !values.keep) rmSync(runDir, { recursive: true, force: true });
else console.log(`Logs kept in ${runDir}/logs`);
process.exit(ok ? 0 : 1);

function openHandles(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

function bytesUnder(path: string): number {
  let total = 0;
  let entries: string[];
  try {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.size;
    entries = readdirSync(path);
  } catch {
    return 0;
  }
  for (const entry of entries) total += bytesUnder(join(path, entry));
  return total;
}

/** Up to `most` indexes of a list of `length`, evenly spread, the first and the last included. */
function spread(length: number, most: number): number[] {
  if (length <= most) return Array.from({ length }, (_, index) => index);
  return Array.from({ length: most }, (_, index) => Math.round((index * (length - 1)) / (most - 1)));
}
