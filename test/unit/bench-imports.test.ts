import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs|js)$/.test(entry.name) ? [path] : [];
  });
}

/** The benches share fixtures with the tests through testkit/, never by reaching into test/. */
describe('bench/', () => {
  it('imports nothing from test/', () => {
    const offenders = sourceFiles(join(ROOT, 'bench')).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)].map((match) => match[1]!);
      return specifiers
        .filter((specifier) => specifier.startsWith('.') && relative(ROOT, join(file, '..', specifier)).split(/[\\/]/)[0] === 'test')
        .map((specifier) => `${relative(ROOT, file)}: ${specifier}`);
    });
    expect(offenders).toEqual([]);
  });
});
