import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RESULTS_PATH, saveSection } from '../report.ts';
import { formatRows, type FaultRow } from './count.ts';
import { FAULTS, runFault } from './rows.ts';
import { faultScript } from './script.ts';
import { startFaultStack } from './stack.ts';
import { createTraffic, SLACK_RETRY_DELAYS_MS } from './traffic.ts';

// `npm run faults`: the local stack under a steady stream of Slack messages and emails, each
// fault injected in turn; one row per fault, written to bench/results.json under `faults`.
// Exits 0 only when every row meets the goal: each accepted message answered exactly once,
// no finished tool call repeated, nothing lost.

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const chosen = values.only ? values.only.split(',') : FAULTS.map((fault) => fault.id);
const unknown = chosen.filter((id) => !FAULTS.some((fault) => fault.id === id));
if (unknown.length) {
  console.error(`Unknown fault ${unknown.join(', ')}: use ${FAULTS.map((fault) => fault.id).join(', ')}.`);
  process.exit(2);
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;
const log = (line: string) => console.error(`[faults ${elapsed()}] ${line}`);
const loadStart = loadavg()[0]!;
const runDir = mkdtempSync(join(tmpdir(), 'faults-'));
console.log(
  `npm run faults: ${chosen.length} fault(s) on ${cpus().length} CPUs, Node ${process.version}, load average ${loadStart.toFixed(2)}; logs in ${runDir}/logs`,
);

const stack = await startFaultStack({ runDir, script: faultScript, log });
// Ctrl-C stops what the run started (the dev server, moto, the worker and dispatcher processes).
process.once('SIGINT', () => void stack.close().then(() => process.exit(130)));
const traffic = createTraffic(stack, log);
stack.controls.recordSlack = (message) => traffic.onSlackChange(message);
log('stack ready');

const rows: (FaultRow & { id: string; deadLetters: number; edgeRetries: number })[] = [];
let failed = false;
try {
  for (const fault of FAULTS.filter((entry) => chosen.includes(entry.id))) {
    try {
      const { row, deadLetters, edgeRetries } = await runFault({ stack, traffic, log }, fault);
      rows.push({ id: fault.id, ...row, deadLetters, edgeRetries });
      log(`${fault.id}: ${row.meetsGoal ? 'goal met' : `GOAL MISSED: ${row.notes.join('; ')}`}`);
    } catch (error) {
      failed = true;
      log(`${fault.id}: the harness failed: ${(error as Error).stack ?? String(error)}`);
    }
  }
} finally {
  await stack.close();
}

const wallSeconds = Math.round((Date.now() - started) / 1000);
const loadEnd = loadavg()[0]!;
const command = `npm run faults${values.only ? ` -- --only ${values.only}` : ''}`;
// A run of some faults replaces only their rows.
const previous = existsSync(RESULTS_PATH)
  ? ((JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as { faults?: { rows?: { id: string }[] } }).faults?.rows ?? [])
  : [];
const kept = values.only ? previous.filter((row) => !chosen.includes(row.id)) : [];
saveSection('faults', {
  command,
  wallSeconds,
  loadAverage: { start: loadStart, end: loadEnd },
  slackRetryDelaysMs: SLACK_RETRY_DELAYS_MS,
  goal: 'each accepted message answered exactly once, no finished tool call repeated, nothing lost',
  rows: [...kept, ...rows],
});

console.log(`\n${command}: ${wallSeconds} s, load average ${loadStart.toFixed(1)} → ${loadEnd.toFixed(1)}\n`);
console.log(formatRows(rows));
for (const row of rows.filter((entry) => entry.notes.length > 0 || entry.deadLetters > 0 || entry.edgeRetries > 0)) {
  const extra = [
    ...(row.edgeRetries ? [`${row.edgeRetries} retried deliveries to the edge`] : []),
    ...(row.deadLetters ? [`${row.deadLetters} dead letter(s) in the queue's DLQ`] : []),
  ];
  console.log(`- ${row.fault}: ${[...row.notes, ...extra].join('; ')}`);
}
const allMet = !failed && rows.length === chosen.length && rows.every((row) => row.meetsGoal);
console.log(allMet ? '\nEvery row meets the goal.' : '\nAt least one row misses the goal (or failed to run).');
if (allMet && !values.keep) rmSync(runDir, { recursive: true, force: true });
else console.log(`Logs kept in ${runDir}/logs`);
process.exit(allMet ? 0 : 1);
