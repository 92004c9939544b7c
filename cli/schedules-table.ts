import type { ScheduleRow } from '../temporal-client/schedules.ts';
import type { SyncSummary } from '../temporal-client/schedules.ts';

/** `npm run schedules -- list` output: one row per schedule, columns padded to their widest cell. */
export function formatScheduleTable(rows: ScheduleRow[]): string {
  if (rows.length === 0) return 'No ambient schedules. Add `triggers` to an agent and run: npm run schedules -- sync';
  const header = ['ID', 'WHEN', 'ZONE', 'STATE', 'NEXT RUN (UTC)', 'LAST RUN', 'NOTE'];
  const cells = rows.map((row) => [
    row.id,
    row.when,
    row.timezone,
    row.paused ? 'paused' : 'active',
    row.nextRun ? formatTime(row.nextRun) : '-',
    row.lastRunAt ? `${row.lastOutcome ?? '?'} ${formatTime(row.lastRunAt)}` : '-',
    row.note ?? '',
  ]);
  const widths = header.map((_, column) => Math.max(...[header, ...cells].map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}

export function formatSyncSummary(summary: SyncSummary, taskQueue: string): string {
  const counts = `${summary.created.length} created, ${summary.updated.length} updated, ${summary.deleted.length} deleted, ${summary.unchanged.length} unchanged`;
  const lines = [`Schedules synced for task queue ${taskQueue}: ${counts}.`];
  for (const [label, ids] of [
    ['created', summary.created],
    ['updated', summary.updated],
    ['deleted', summary.deleted],
  ] as const) {
    for (const id of ids) lines.push(`  ${label} ${id}`);
  }
  for (const id of summary.conflicts)
    lines.push(
      `  left alone ${id}: a schedule with this id exists that sync did not create; delete or rename it to let sync manage the trigger.`,
    );
  return lines.join('\n');
}

function formatTime(time: Date): string {
  return time.toISOString().slice(0, 16).replace('T', ' ');
}
