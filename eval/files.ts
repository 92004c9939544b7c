import { existsSync, globSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CaseFileError, readCaseFile, type EvalCase } from './case.ts';
import type { LoadedCase, EvalRun } from './run-cases.ts';

/** Where cases and results live, under the project: `evals/<agent>/*.json`, `evals/results/`. */
export const EVALS_DIRECTORY = 'evals';
export const RESULTS_DIRECTORY = join(EVALS_DIRECTORY, 'results');

/** The agent's cases: `evals/<agent>/**\/*.json`, or the files a glob names. Every bad file is reported, not only the first. */
export function loadCases(agent: string, pattern?: string, root = process.cwd()): LoadedCase[] {
  const files = globSync(pattern ?? join(EVALS_DIRECTORY, agent, '**', '*.json'), { cwd: root })
    .filter((file) => !file.startsWith(`${RESULTS_DIRECTORY}/`))
    .sort();
  const cases: LoadedCase[] = [];
  const errors: string[] = [];
  for (const file of files) {
    try {
      cases.push({ file, evalCase: readCaseFile(join(root, file)) });
    } catch (error) {
      if (!(error instanceof CaseFileError)) throw error;
      errors.push(error.message);
    }
  }
  if (errors.length) throw new CaseFileError(errors.join('\n'));
  const seen = new Map<string, string>();
  for (const { file, evalCase } of cases) {
    if (evalCase.agent !== agent) throw new CaseFileError(`${file}: agent: this case is for "${evalCase.agent}", not "${agent}"`);
    const other = seen.get(evalCase.id);
    if (other) throw new CaseFileError(`${file}: id: "${evalCase.id}" is also the id of ${other}`);
    seen.set(evalCase.id, file);
  }
  return cases;
}

/** Writes a case to `evals/<agent>/<id>.json`; an existing file is kept unless `overwrite`. */
export function writeCase(evalCase: EvalCase, options: { root?: string; overwrite?: boolean } = {}): { file: string; written: boolean } {
  const directory = join(options.root ?? process.cwd(), EVALS_DIRECTORY, evalCase.agent);
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${evalCase.id}.json`);
  if (existsSync(file) && !options.overwrite) return { file, written: false };
  writeFileSync(file, `${JSON.stringify(evalCase, null, 2)}\n`);
  return { file, written: true };
}

export function writeResults(run: EvalRun, directory = join(process.cwd(), RESULTS_DIRECTORY)): string {
  mkdirSync(directory, { recursive: true });
  const label = run.configuration.label.replace(/[^a-zA-Z0-9._-]+/g, '-').slice(0, 40);
  const file = join(directory, `${run.agent}-${run.id}${label ? `-${label}` : ''}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  return file;
}

export function readResults(file: string): EvalRun {
  const run = JSON.parse(readFileSync(file, 'utf8')) as EvalRun;
  if (run.version !== 1 || !Array.isArray(run.cases)) throw new Error(`${file} is not the results of an eval run.`);
  return run;
}

/** Result files, newest first (their names start with the run's time). */
export function listResults(directory = join(process.cwd(), RESULTS_DIRECTORY)): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .sort((a, b) => runIdOf(b).localeCompare(runIdOf(a)))
    .map((name) => join(directory, name));
}

function runIdOf(name: string): string {
  return /-(\d{8}T\d{6})/.exec(basename(name))?.[1] ?? name;
}
