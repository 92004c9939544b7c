import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';
import { noTemporal, temporalAddress } from '../../testkit/temporal.ts';
import { runToExit, startWorkerProcess } from '../../testkit/worker-process.ts';

/**
 * The workflow bundle built ahead (the image's build step) and the worker's entry loading it:
 * the build replays recorded histories with the very bundle it writes, and refuses to write
 * one that does not replay.
 */

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const HISTORIES = join(REPOSITORY, 'test', 'replay', 'histories');
const BUILD = join(REPOSITORY, 'worker', 'build-workflow-bundle.ts');
const scratch = mkdtempSync(join(tmpdir(), 'workflow-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Two recorded histories: an agent run and an ambient run. */
function historiesDir(
  name: string,
  edit?: (history: { events: { eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[] }) => void,
): string {
  const directory = join(scratch, name);
  mkdirSync(directory);
  for (const file of ['agent-run-plain.json', 'ambient-run.run.json']) {
    if (!edit) copyFileSync(join(HISTORIES, file), join(directory, file));
    else {
      const recorded = JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as { history: Parameters<typeof edit>[0] };
      edit(recorded.history);
      writeFileSync(join(directory, file), JSON.stringify(recorded));
    }
  }
  return directory;
}

describe('npm run build:workflows', () => {
  it('bundles workflows/, replays the recorded histories with that bundle, and writes it', async () => {
    const out = join(scratch, 'good', 'workflow-bundle.js');
    const { code, output } = await runToExit([BUILD, '--out', out, '--replay', historiesDir('histories-good')], {
      env: process.env,
      cwd: REPOSITORY,
      timeoutMs: 120_000,
    });
    expect(code, output).toBe(0);
    expect(output).toMatch(/Bundled workflows\/: [\d.]+ MiB in \d+ ms\.\nReplayed 2 recorded histories with this bundle\.\nWrote /);
    expect(statSync(out).size).toBeGreaterThan(1024 * 1024);
    expect(readFileSync(out, 'utf8')).toContain('agentRun');
  });

  it('writes nothing when a recorded history does not replay with the bundle', async () => {
    const out = join(scratch, 'bad', 'workflow-bundle.js');
    // The recorded run scheduled an activity today's code does not: replay must refuse it.
    const tampered = historiesDir('histories-tampered', (history) => {
      const scheduled = history.events.find((event) => event.activityTaskScheduledEventAttributes);
      scheduled!.activityTaskScheduledEventAttributes!.activityType.name = 'renamedActivity';
    });
    const { code, output } = await runToExit([BUILD, '--out', out, '--replay', tampered], {
      env: process.env,
      cwd: REPOSITORY,
      timeoutMs: 120_000,
    });
    expect(code, output).toBe(1);
    expect(output).toMatch(/^Bundle not written: a recorded history does not replay with it \(.+\)\.$/m);
    expect(output).not.toMatch(/^\s+at /m);
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(noTemporal)('worker/main.ts with WORKFLOW_BUNDLE_PATH', () => {
  const env = (bundle: string) => ({
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: `prebuilt-${crypto.randomUUID()}`,
    GOOGLE_API_KEY: 'test-key',
    GEMINI_BASE_URL: 'http://127.0.0.1:9',
    TRANSCRIPT_DIR: mkdtempSync(join(scratch, 'transcripts-')),
    SCHEDULES_SYNC_AT_START: 'false',
    WORKFLOW_BUNDLE_PATH: bundle,
    PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON,
  });

  it('runs from the bundle file it names, without bundling', async () => {
    const bundle = join(scratch, 'prebuilt.js');
    writeFileSync(bundle, inject('workflowBundleCode'));
    const child = await startWorkerProcess(env(bundle));
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  });

  it('loads that file and nothing else: a file that is not a bundle stops it', async () => {
    const broken = join(scratch, 'broken.js');
    writeFileSync(broken, 'this is not a workflow bundle (');
    const { code, output } = await runToExit([join(REPOSITORY, 'worker', 'main.ts')], {
      env: { ...process.env, ...env(broken) },
      cwd: REPOSITORY,
      timeoutMs: 60_000,
    });
    expect(code, output).not.toBe(0);
    expect(output).not.toContain('Worker polling');
    expect(output).toMatch(/the provided Workflow Bundle/);
  });

  it('refuses to start, in one line, when the file is missing', async () => {
    const missing = join(scratch, 'missing.js');
    const { code, output } = await runToExit([join(REPOSITORY, 'worker', 'main.ts')], {
      env: { ...process.env, ...env(missing) },
      cwd: REPOSITORY,
      timeoutMs: 60_000,
    });
    expect(code, output).toBe(1);
    expect(output.trim()).toBe(
      `Worker not started. WORKFLOW_BUNDLE_PATH=${missing} does not exist: build it with npm run build:workflows, or unset WORKFLOW_BUNDLE_PATH to bundle at start.`,
    );
  });
});
