import type { CaseResult, EvalRun } from './run-cases.ts';

/** Plain-text tables of eval runs, for the terminal. */

export function progressLine(result: CaseResult, done: number, total: number): string {
  const width = String(total).length;
  return `  [${String(done).padStart(width)}/${total}] ${result.pass ? 'pass' : 'FAIL'}  ${result.id}  ${seconds(result.latencyMs)}${result.pass ? '' : `  ${result.failures[0] ?? ''}`}`;
}

export function resultTable(run: EvalRun): string {
  const rows = run.cases.map((result) => [
    result.id,
    result.pass ? 'pass' : 'FAIL',
    String(result.steps),
    String(result.usage.totalTokens),
    money(result.cost),
    seconds(result.latencyMs),
    result.pass ? (result.notes[0] ?? '') : result.failures.join('; '),
  ]);
  const { summary } = run;
  rows.push([
    `${run.agent} (${run.configuration.label})`,
    `${summary.passed}/${summary.total}`,
    '',
    String(summary.tokens),
    money(summary.cost),
    `${seconds(summary.latencyMs.median)} median`,
    `pass rate ${(summary.passRate * 100).toFixed(0)}%`,
  ]);
  return table(['case', 'result', 'steps', 'tokens', 'cost', 'latency', 'why'], rows);
}

export interface Comparison {
  /** Cases whose result changed: pass → fail, or fail → pass. */
  changed: { id: string; before: boolean; after: boolean; why: string }[];
  /** Cases in only one of the runs. */
  added: string[];
  removed: string[];
  text: string;
}

/** Two runs side by side: which cases changed, and each case's tokens, cost and latency before and after. */
export function compareRuns(before: EvalRun, after: EvalRun): Comparison {
  const earlier = new Map(before.cases.map((result) => [result.id, result]));
  const later = new Map(after.cases.map((result) => [result.id, result]));
  const changed: Comparison['changed'] = [];
  const rows: string[][] = [];
  for (const result of after.cases) {
    const old = earlier.get(result.id);
    if (!old) continue;
    const flipped = old.pass !== result.pass;
    const why = flipped ? (result.pass ? `now passes (was: ${old.failures[0] ?? ''})` : (result.failures[0] ?? '')) : '';
    if (flipped) changed.push({ id: result.id, before: old.pass, after: result.pass, why });
    rows.push([
      result.id,
      `${old.pass ? 'pass' : 'FAIL'} → ${result.pass ? 'pass' : 'FAIL'}${flipped ? ' *' : ''}`,
      `${old.usage.totalTokens} → ${result.usage.totalTokens}`,
      costChange(old.cost, result.cost),
      `${seconds(old.latencyMs)} → ${seconds(result.latencyMs)} (${delta(result.latencyMs - old.latencyMs)})`,
      why,
    ]);
  }
  const added = after.cases.filter((result) => !earlier.has(result.id)).map((result) => result.id);
  const removed = before.cases.filter((result) => !later.has(result.id)).map((result) => result.id);
  const costDelta = costChange(before.summary.cost, after.summary.cost);
  rows.push([
    'total',
    `${before.summary.passed}/${before.summary.total} → ${after.summary.passed}/${after.summary.total}`,
    `${before.summary.tokens} → ${after.summary.tokens}`,
    costDelta,
    `${seconds(before.summary.latencyMs.median)} → ${seconds(after.summary.latencyMs.median)} median`,
    `${changed.length} changed`,
  ]);
  const lines = [
    `${before.configuration.label} (${before.configuration.model}, ${before.id}) → ${after.configuration.label} (${after.configuration.model}, ${after.id})`,
    table(['case', 'result', 'tokens', 'cost', 'latency', 'why'], rows),
  ];
  if (changed.length === 0) lines.push('No case changed.');
  for (const change of changed) lines.push(`${change.before ? 'pass → FAIL' : 'FAIL → pass'}: ${change.id}: ${change.why}`);
  if (added.length) lines.push(`Only in the second run: ${added.join(', ')}`);
  if (removed.length) lines.push(`Only in the first run: ${removed.join(', ')}`);
  return { changed, added, removed, text: lines.join('\n') };
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  // The last column (why) is left unpadded: it is free text.
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(Math.min(width, 40)))), ...rows.map(line)].join('\n');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function delta(ms: number): string {
  return `${ms >= 0 ? '+' : '−'}${(Math.abs(ms) / 1000).toFixed(2)} s`;
}

/** Before → after, with the difference when both are known; a dash when neither run reports a cost. */
function costChange(before: number | undefined, after: number | undefined): string {
  if (before === undefined && after === undefined) return '—';
  const difference =
    before === undefined || after === undefined ? '' : ` (${after >= before ? '+' : '−'}$${Math.abs(after - before).toFixed(6)})`;
  return `${money(before)} → ${money(after)}${difference}`;
}

function money(cost: number | undefined): string {
  return cost === undefined ? 'not recorded' : `$${cost.toFixed(6)}`;
}
