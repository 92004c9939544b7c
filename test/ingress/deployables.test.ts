import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ownImportGraph } from '../../testkit/import-graph.ts';

const DEPLOYABLES = ['slack', 'email', 'dispatch'];

/** One folder per deployable: a handler reaches its own folder, functions/shared and the shared modules, nothing of another deployable. */
describe.each(DEPLOYABLES)('functions/%s', (name) => {
  const entry = `functions/${name}/handler.ts`;

  it('imports no file of another deployable, and no local program', async () => {
    const { files } = await ownImportGraph(entry);
    expect(files).toContain(entry);
    expect(
      files.filter(
        (file) => file.startsWith('functions/') && !file.startsWith(`functions/${name}/`) && !file.startsWith('functions/shared/'),
      ),
    ).toEqual([]);
    expect(files.filter((file) => /^(local|cli|worker|workflows|agents|test|bench)\//.test(file))).toEqual([]);
  });

  it('ends in the exported Lambda handler', () => {
    // The last statement: the lines from `export const handler =` on are that one statement
    // (continuation lines are indented; only its closing may stand at the margin).
    const lines = readFileSync(entry, 'utf8').trimEnd().split('\n');
    const start = lines.findLastIndex((line) => line.startsWith('export const handler = '));
    expect(start).toBeGreaterThan(0);
    expect(lines.slice(start + 1).filter((line) => /^\S/.test(line) && !/^[)}\]]+;?$/.test(line))).toEqual([]);
  });
});
