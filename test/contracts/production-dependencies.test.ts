import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { DEV_PINS_WITHOUT_IMPORTS, OVERRIDE_NOTES, PRODUCTION_PINS_WITHOUT_IMPORTS } from '../../config/dependency-notes.ts';
import { ownImportGraph } from '../../testkit/import-graph.ts';

/**
 * The worker image installs `dependencies` only (`npm ci --omit=dev` in worker/Dockerfile) and
 * the Lambdas are bundled from their handlers, so `dependencies` must hold exactly what those
 * entries import: one missing breaks the image at start, one extra ships for nothing. The
 * import graph is esbuild's (type-only imports are erased); what `npm ci --omit=dev` installs
 * is read from package-lock.json, as npm ci itself reads it: offline and in milliseconds.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FUNCTIONS = readdirSync(resolve(ROOT, 'functions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && readdirSync(resolve(ROOT, 'functions', entry.name)).includes('handler.ts'))
  .map((entry) => `functions/${entry.name}/handler.ts`);
/** What runs in production: the worker image's commands, the workflow bundle it builds, and each Lambda. */
const ENTRIES = ['worker/main.ts', 'worker/build-workflow-bundle.ts', 'workflows/index.ts', 'workflows/interceptors.ts', ...FUNCTIONS];

interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  overrides?: Record<string, string>;
  scripts: Record<string, string>;
}
interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const manifest = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(resolve(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

let importedInProduction: Promise<Map<string, string[]>> | undefined;

/** Each package the production entries import, with the entries that reach it. */
function packagesImportedInProduction(): Promise<Map<string, string[]>> {
  importedInProduction ??= walkProductionImports();
  return importedInProduction;
}

async function walkProductionImports(): Promise<Map<string, string[]>> {
  const importers = new Map<string, string[]>();
  for (const entry of ENTRIES) {
    const { packages } = await ownImportGraph(resolve(ROOT, entry));
    for (const name of packages.filter((specifier) => !specifier.startsWith('node:')).map(packageName)) {
      importers.set(name, [...(importers.get(name) ?? []), entry]);
    }
  }
  return importers;
}

/** The lock path a package resolves to from `from` (a lock path), as Node walks node_modules folders up. */
function resolveInLock(name: string, from: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (base === '') return undefined;
    const index = base.lastIndexOf('/node_modules/');
    base = index === -1 ? '' : base.slice(0, index);
  }
}

/**
 * What a production install misses for `roots`: every package reached through dependencies,
 * present optional ones and non-optional peers must be in the lock and not marked `dev`
 * (npm ci --omit=dev leaves those out).
 */
function missingFromProductionInstall(roots: string[]): string[] {
  const missing = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string, from: string, required: boolean, via: string) => {
    const path = resolveInLock(name, from);
    if (!path) {
      if (required) missing.add(`${name} (needed by ${via}) is not in package-lock.json`);
      return;
    }
    if (seen.has(path)) return;
    seen.add(path);
    const entry = lock.packages[path]!;
    if (entry.dev) missing.add(`${path} (needed by ${via}) is marked dev: npm ci --omit=dev leaves it out`);
    for (const dependency of Object.keys(entry.dependencies ?? {})) visit(dependency, path, true, path);
    for (const dependency of Object.keys(entry.optionalDependencies ?? {})) visit(dependency, path, false, path);
    for (const [dependency] of Object.entries(entry.peerDependencies ?? {}))
      visit(dependency, path, !entry.peerDependenciesMeta?.[dependency]?.optional, path);
  };
  for (const root of roots) visit(root, '', true, 'a deployable');
  return [...missing].sort();
}

/** Packages some tracked file imports (tests, infra, bench, config files included). */
function packagesImportedAnywhere(): Set<string> {
  const files = execFileSync('git', ['ls-files', '*.ts', '*.js', '*.mjs'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  const names = new Set<string>();
  for (const file of files) {
    for (const { fileName } of ts.preProcessFile(readFileSync(resolve(ROOT, file), 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.') && !fileName.startsWith('node:')) names.add(packageName(fileName));
    }
  }
  return names;
}

/** Packages whose command an npm script runs (`tsc` is typescript's, `cdk` aws-cdk's). */
function packagesRunByScripts(): Set<string> {
  const words = new Set(Object.values(manifest.scripts).flatMap((script) => script.split(/[\s;&|]+/)));
  const names = new Set<string>();
  for (const name of Object.keys(manifest.devDependencies)) {
    const { bin } = JSON.parse(readFileSync(resolve(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      bin?: string | Record<string, string>;
    };
    const commands = typeof bin === 'string' ? [packageName(name).split('/').pop()!] : Object.keys(bin ?? {});
    if (commands.some((command) => words.has(command))) names.add(name);
  }
  return names;
}

describe('production dependencies', () => {
  it('walks every program the worker image runs', () => {
    const dockerfile = readFileSync(resolve(ROOT, 'worker/Dockerfile'), 'utf8');
    const programs = [...dockerfile.matchAll(/\bnode"?,?\s*"?([\w/.-]+\.ts)/g)].map((match) => match[1]!);
    expect(programs).toEqual(expect.arrayContaining(['worker/main.ts', 'worker/build-workflow-bundle.ts']));
    expect(
      programs.filter((program) => !ENTRIES.includes(program)),
      'add these to ENTRIES',
    ).toEqual([]);
  });

  it('lists in dependencies every package the worker image and the Lambdas import', async () => {
    const imported = await packagesImportedInProduction();
    expect(imported.get('@temporalio/worker'), 'the walk reaches the worker').toContain('worker/main.ts');
    const absent = [...imported]
      .filter(([name]) => !(name in manifest.dependencies))
      .map(([name, entries]) => `${name} (imported from ${entries.join(', ')})`);
    expect(absent, 'move these to dependencies: the image installs nothing else').toEqual([]);
  });

  it('lists in dependencies nothing the deployables do not import, apart from the noted pins', async () => {
    const imported = await packagesImportedInProduction();
    const unused = Object.keys(manifest.dependencies).filter((name) => !imported.has(name) && !(name in PRODUCTION_PINS_WITHOUT_IMPORTS));
    expect(unused, 'move these to devDependencies, or say why in PRODUCTION_PINS_WITHOUT_IMPORTS (config/dependency-notes.ts)').toEqual([]);
    const stale = Object.keys(PRODUCTION_PINS_WITHOUT_IMPORTS).filter((name) => !(name in manifest.dependencies) || imported.has(name));
    expect(stale, 'these notes no longer apply: remove them from config/dependency-notes.ts').toEqual([]);
  });

  it('installs with npm ci --omit=dev everything the deployables import, and what those import', async () => {
    const rootEntry = lock.packages['']! as LockEntry & { devDependencies?: Record<string, string> };
    expect(
      { dependencies: rootEntry.dependencies, devDependencies: rootEntry.devDependencies },
      'package-lock.json is out of date: run npm install',
    ).toEqual({
      dependencies: manifest.dependencies,
      devDependencies: manifest.devDependencies,
    });
    const imported = await packagesImportedInProduction();
    expect(missingFromProductionInstall([...imported.keys()])).toEqual([]);
  });

  it('gives a reason for every devDependency no file imports and no script runs', () => {
    const used = new Set([...packagesImportedAnywhere(), ...packagesRunByScripts()]);
    const unexplained = Object.keys(manifest.devDependencies).filter((name) => !used.has(name) && !(name in DEV_PINS_WITHOUT_IMPORTS));
    expect(unexplained, 'remove these, or say why in DEV_PINS_WITHOUT_IMPORTS (config/dependency-notes.ts)').toEqual([]);
    const stale = Object.keys(DEV_PINS_WITHOUT_IMPORTS).filter((name) => !(name in manifest.devDependencies) || used.has(name));
    expect(stale, 'these notes no longer apply: remove them from config/dependency-notes.ts').toEqual([]);
  });

  it('gives a reason for every override', () => {
    expect(Object.keys(manifest.overrides ?? {}).sort(), 'say why in OVERRIDE_NOTES (config/dependency-notes.ts)').toEqual(
      Object.keys(OVERRIDE_NOTES).sort(),
    );
  });
});
