import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The workflow bundle is replayed, so what it reaches must be deterministic. The lint block
 * for workflow files enforces that, but only on the files it names: these tests walk the
 * imports from workflows/index.ts and check that every file reached is one the lint block
 * covers, and that the bundle reaches no Node built-in, worker-side file or package.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = resolve(ROOT, 'workflows/index.ts');
/** Packages whose values a workflow may import. */
const WORKFLOW_PACKAGES = new Set(['@temporalio/workflow']);
/** What the tracing interceptor module (workflows/interceptors.ts) may add. */
const TRACING_PACKAGES = new Set([
  '@temporalio/interceptors-opentelemetry',
  '@opentelemetry/api',
  '@opentelemetry/core',
  '@opentelemetry/sdk-trace-base',
]);
const WORKER_SIDE =
  /^(worker|store|functions|local|agents|authoring|events|config|cli|temporal-client|telemetry|testkit|eval|infra|bench)\//;

/** Every project file reachable from `entry` through any import, type-only ones included. */
function reachedFiles(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (fileName.startsWith('.')) visit(resolve(dirname(file), fileName));
    }
  };
  visit(entry);
  return [...seen].map((file) => relative(ROOT, file)).sort();
}

/** What the bundle holds: project files and the packages it imports values from (type imports are erased). */
async function bundled(entry = ENTRY): Promise<{ files: string[]; packages: string[] }> {
  const { metafile } = await build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    platform: 'neutral',
    format: 'esm',
    logLevel: 'silent',
  });
  const inputs = Object.values(metafile.inputs);
  return {
    files: Object.keys(metafile.inputs).sort(),
    packages: [
      ...new Set(inputs.flatMap((input) => input.imports.filter((imported) => imported.external).map((imported) => imported.path))),
    ].sort(),
  };
}

async function sandboxLinted(eslint: ESLint, file: string): Promise<boolean> {
  const config = (await eslint.calculateConfigForFile(resolve(ROOT, file))) as { rules?: Record<string, unknown> };
  return JSON.stringify(config.rules?.['no-restricted-imports'] ?? null).includes('Workflow code is deterministic');
}

describe('the workflow sandbox', () => {
  it('lints every file a workflow reaches with the sandbox rules', async () => {
    const files = reachedFiles(ENTRY);
    expect(files).toContain('core/contracts/model.ts');
    const eslint = new ESLint({ cwd: ROOT });
    const uncovered: string[] = [];
    for (const file of files) if (!(await sandboxLinted(eslint, file))) uncovered.push(file);
    expect(uncovered, 'add these to WORKFLOW_SANDBOX_FILES in eslint.config.js (and keep them pure)').toEqual([]);
  });

  it('bundles no Node built-in, worker-side file or package besides @temporalio/workflow', async () => {
    const { files, packages } = await bundled();
    expect(files.filter((file) => WORKER_SIDE.test(file))).toEqual([]);
    const builtins = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);
    expect(packages.filter((name) => builtins.has(name))).toEqual([]);
    expect(packages.filter((name) => !WORKFLOW_PACKAGES.has(name))).toEqual([]);
  });

  it('bundles only the OpenTelemetry packages besides @temporalio/workflow in the interceptor module', async () => {
    const { files, packages } = await bundled(resolve(ROOT, 'workflows/interceptors.ts'));
    expect(files.filter((file) => WORKER_SIDE.test(file))).toEqual([]);
    expect(packages.filter((name) => !WORKFLOW_PACKAGES.has(name) && !TRACING_PACKAGES.has(name))).toEqual([]);
  });
});
