import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const RESULTS_PATH = fileURLToPath(new URL('./results.json', import.meta.url));

export type Section =
  'history' | 'overhead' | 'capacity' | 'capacity_model_on_main_queue' | 'overhead_read_only_tools' | 'faults' | 'soak' | 'soak_one_worker';

/** Writes one part's section into results.json, keeping the other parts' sections. */
export function saveSection(section: Section, value: unknown): void {
  const previous = existsSync(RESULTS_PATH) ? (JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as Record<string, unknown>) : {};
  const results = {
    ...previous,
    generatedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memory: totalmem(), node: process.version },
    [section]: value,
  };
  writeFileSync(RESULTS_PATH, `${JSON.stringify(results, null, 2)}\n`);
}

/** The p-th percentile (0–100) by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${round(bytes / 1024 / 1024, 2)} MiB`;
  if (bytes >= 1024) return `${round(bytes / 1024, 1)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** A plain-text table: a header row, a rule, then rows; columns padded to their widest cell. */
export function table(title: string, header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [title, line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function check(label: string, pass: boolean, detail: string): string {
  return `${pass ? 'PASS' : 'FAIL'}  ${label}: ${detail}`;
}
