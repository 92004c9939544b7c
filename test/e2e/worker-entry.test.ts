import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ownImportGraph } from '../../testkit/import-graph.ts';
import { runToExit } from '../../testkit/worker-process.ts';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

/** The container's entry is production only: the embedded defaults never reach it. */
describe('worker/main.ts', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'worker-entry-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('imports nothing from local/ or cli/, and not @temporalio/testing (a devDependency the image lacks)', async () => {
    const { files, packages } = await ownImportGraph('worker/main.ts');
    expect(files).toContain('worker/main.ts');
    expect(files.filter((file) => /^(local|cli|test|bench)\//.test(file))).toEqual([]);
    expect(packages.filter((name) => name === '@temporalio/testing' || name.startsWith('@temporalio/testing/'))).toEqual([]);
  });

  it('without TEMPORAL_ADDRESS and GOOGLE_API_KEY, exits at once naming both, with no stack trace and no dev server', async () => {
    // A `temporal` that leaves a mark: a dev server started by any path (PATH, TEMPORAL_CLI_PATH) would run it.
    const marker = join(scratch, 'temporal-was-started');
    writeFileSync(join(scratch, 'temporal'), `#!/bin/sh\ntouch '${marker}'\nexit 1\n`);
    chmodSync(join(scratch, 'temporal'), 0o755);
    const started = Date.now();
    const { code, output } = await runToExit(['worker/main.ts'], {
      cwd: REPOSITORY,
      // A clean environment, as a fresh container's: only where node and the fake CLI are.
      env: { PATH: `${scratch}:/usr/bin:/bin`, HOME: scratch, TEMPORAL_CLI_PATH: join(scratch, 'temporal') },
      timeoutMs: 15_000,
    });
    const elapsed = Date.now() - started;

    expect(code, output).not.toBe(0);
    expect(code, output).not.toBeNull();
    expect(elapsed, output).toBeLessThan(10_000);
    expect(output).toMatch(/TEMPORAL_ADDRESS/);
    expect(output).toMatch(/GOOGLE_API_KEY/);
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toMatch(/dev server|OFFLINE|Worker polling/i);
    expect(existsSync(marker)).toBe(false);
  });
});
