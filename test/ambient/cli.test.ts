import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgentRegistry } from '../../agents/index.ts';
import { syncSchedules } from '../../temporal-client/schedules.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';
import { TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';

const temporal = useTemporal();
const CLI = fileURLToPath(new URL('../../cli/schedules.ts', import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));

/** The registry's triggers, as one deployment's schedule ids: what `sync` and a worker's start make exist. */
const registryScheduleIds = (deployment: string) =>
  [...createAgentRegistry().agents.values()].flatMap((agent) =>
    agent.triggers.map((trigger) => `ambient:${deployment}:${agent.name}:${trigger.id}`),
  );
/** Schedules the registry syncs below made, deleted after the file. */
const registrySchedules = new Set<string>();
afterAll(async () => {
  for (const id of registrySchedules) {
    await temporal.client?.schedule
      .getHandle(id)
      .delete()
      .catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
  }
});

async function schedules(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { TEMPORAL_ADDRESS: _address, TEMPORAL_TASK_QUEUE: _queue, ...rest } = process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { ...rest, PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON, ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run schedules', () => {
  it('prints one usage line for no command, an unknown command or a missing id', async () => {
    for (const args of [[], ['frob'], ['trigger'], ['list', 'extra']]) {
      const result = await schedules(args, { TEMPORAL_ADDRESS: '127.0.0.1:1' });
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/Usage: npm run schedules -- sync \| list \| trigger <id> \| pause <id>/);
    }
  });

  it('without TEMPORAL_ADDRESS says how to get one, in one line', async () => {
    const result = await schedules(['list']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^Set TEMPORAL_ADDRESS .* run the local stack \(npm start\)/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an unreachable server is one line, no stack trace', async () => {
    const result = await schedules(['sync'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^Cannot reach Temporal at 127\.0\.0\.1:1 \(.*\)\. Check TEMPORAL_ADDRESS/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  describe.skipIf(noTemporal)('on the dev server', () => {
    const taskQueue = `cli-${crypto.randomUUID()}`;
    const name = `cli-${crypto.randomUUID().slice(0, 8)}`;
    const id = `ambient:${taskQueue}:${name}:morning`;
    const env = { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue };
    afterAll(async () => {
      await temporal.client?.schedule
        .getHandle(id)
        .delete()
        .catch((error: unknown) => {
          if (!(error instanceof ScheduleNotFoundError)) throw error;
        });
    });

    it('lists, pauses, triggers, and refuses unknown ids', async () => {
      const agent = defineAgent({
        name,
        instructions: 'Digest.',
        triggers: [
          { id: 'morning', cron: '0 8 1 1 *', timezone: 'Europe/Paris', prompt: 'News?', deliver: { kind: 'slack', channel: 'C0123' } },
        ],
      });
      await syncSchedules({ client: temporal.client, taskQueue, agents: [agent] });
      // The list comes from Temporal's schedule list, a moment behind the create.
      let listed = await schedules(['list'], env);
      for (let attempt = 0; attempt < 30 && !listed.stdout.includes(id); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        listed = await schedules(['list'], env);
      }
      expect(listed.code).toBe(0);
      const [header, row] = listed.stdout.trim().split('\n');
      expect(header).toMatch(/^ID\s+WHEN\s+ZONE\s+STATE\s+NEXT RUN \(UTC\)\s+LAST RUN\s+NOTE$/);
      expect(row).toMatch(new RegExp(`^${id}\\s+0 8 1 1 \\*\\s+Europe/Paris\\s+active\\s+\\d{4}-01-01 07:00\\s+-\\s+Trigger morning`));

      expect(await schedules(['pause', id, 'quiet', 'week'], env)).toMatchObject({ code: 0, stdout: `Paused ${id}.\n` });
      expect((await temporal.client.schedule.getHandle(id).describe()).state).toMatchObject({ paused: true, note: 'quiet week' });
      expect((await schedules(['list'], env)).stdout).toMatch(/paused\s+.*quiet week/);
      expect(await schedules(['unpause', id], env)).toMatchObject({ code: 0 });
      expect(await schedules(['trigger', id], env)).toMatchObject({
        code: 0,
        stdout: `Triggered ${id} (skipped if a run of it is still going).\n`,
      });

      const unknown = await schedules(['trigger', 'ambient:nobody:nothing'], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr.trim()).toMatch(/^No ambient schedule "ambient:nobody:nothing"; .* Usage: npm run schedules/);
      expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('sync with the registry agents reports what it did', async () => {
      const deployment = `cli-deployment-${crypto.randomUUID().slice(0, 8)}`;
      const ids = registryScheduleIds(deployment);
      for (const made of ids) registrySchedules.add(made);
      const result = await schedules(['sync'], {
        ...env,
        TEMPORAL_TASK_QUEUE: `cli-empty-${crypto.randomUUID()}`,
        AGENTS_DEPLOYMENT: deployment,
      });
      expect(result.code, result.stderr).toBe(0);
      // Ids name the deployment: another file's sync of the same registry never holds them.
      expect(result.stdout).toMatch(
        new RegExp(`^Schedules synced for task queue cli-empty-[0-9a-f-]+: ${ids.length} created, 0 updated, 0 deleted, 0 unchanged\\.`),
      );
      for (const made of ids)
        await expect(temporal.client.schedule.getHandle(made).describe()).resolves.toMatchObject({ memo: { deployment } });
    });
  });
});

describe.skipIf(noTemporal)('npm run worker syncs the schedules at start', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it("npm run worker's entry makes the registry's triggers into schedules on its task queue, in one logged line, before polling", async () => {
    const taskQueue = `worker-start-${crypto.randomUUID()}`;
    const child = spawn(process.execPath, [WORKER_MAIN], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: taskQueue,
        GOOGLE_API_KEY: 'test-key',
        PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON,
        GEMINI_BASE_URL: 'http://127.0.0.1:9',
        TRANSCRIPT_DIR: mkdtempSync(join(tmpdir(), 'sync-at-start-')),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Worker polling')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${output}`)));
    });
    child.kill('SIGTERM');

    const lines = output.split('\n').filter((line) => line.startsWith('Schedules'));
    expect(lines, output).toHaveLength(1);
    const counts = /^Schedules synced for task queue "([^"]+)": (\d+) created, (\d+) updated, (\d+) deleted, (\d+) unchanged\.$/.exec(
      lines[0]!,
    );
    expect(counts, lines[0]).not.toBeNull();
    expect(counts![1]).toBe(taskQueue);
    // Without AGENTS_DEPLOYMENT the task queue names the deployment.
    const ids = registryScheduleIds(taskQueue);
    for (const made of ids) registrySchedules.add(made);
    expect(ids.length).toBeGreaterThan(0);
    expect(Number(counts![2])).toBe(ids.length);
    // The sync line comes before the worker polls.
    expect(output.indexOf('Schedules synced')).toBeLessThan(output.indexOf('Worker polling'));
    for (const id of ids) {
      const description = await temporal.client.schedule.getHandle(id).describe();
      expect(description.memo).toMatchObject({ managedBy: 'durable-agents', deployment: taskQueue, origin: 'definition' });
      expect(description.action).toMatchObject({ workflowType: 'ambientRun', taskQueue });
    }
  });
});
