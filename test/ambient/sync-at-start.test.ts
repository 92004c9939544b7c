import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgentRegistry } from '../../agents/index.ts';
import { syncSchedulesAtStart } from '../../worker/sync-at-start.ts';
import { noTemporal, temporalAddress, useTemporal } from '../support/temporal.ts';

const WORKER_MAIN = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));

/** The registry's triggers, as schedule ids: what a worker's start makes exist. */
const registryScheduleIds = () => [...createAgentRegistry().agents.values()].flatMap((agent) => agent.triggers.map((trigger) => `ambient:${agent.name}:${trigger.id}`));

describe.skipIf(noTemporal)('the worker syncs schedules at start', () => {
  const temporal = useTemporal();
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const id of registryScheduleIds()) {
      await temporal.client.schedule.getHandle(id).delete().catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
    }
  });

  it("npm run worker's entry makes the registry's triggers into schedules on its task queue, in one logged line, before polling", async () => {
    const taskQueue = temporal.taskQueue('sync-at-start');
    const child = spawn(process.execPath, [WORKER_MAIN], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: taskQueue,
        GOOGLE_API_KEY: 'test-key',
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
    const counts = /^Schedules synced for task queue "([^"]+)": (\d+) created, (\d+) updated, (\d+) deleted, (\d+) unchanged\.$/.exec(lines[0]!);
    expect(counts, lines[0]).not.toBeNull();
    expect(counts![1]).toBe(taskQueue);
    const ids = registryScheduleIds();
    expect(ids.length).toBeGreaterThan(0);
    // Created on a fresh server; updated when an earlier run left them on another task queue.
    expect(Number(counts![2]) + Number(counts![3])).toBe(ids.length);
    // The sync line comes before the worker polls.
    expect(output.indexOf('Schedules synced')).toBeLessThan(output.indexOf('Worker polling'));
    for (const id of ids) {
      const description = await temporal.client.schedule.getHandle(id).describe();
      expect(description.memo).toMatchObject({ managedBy: 'durable-agents', origin: 'definition' });
      expect(description.action).toMatchObject({ workflowType: 'ambientRun', taskQueue });
    }
  });

  it('a sync that fails logs one line and returns, so the worker starts anyway', async () => {
    const lines: string[] = [];
    // A namespace the server does not have: every schedule call is refused at once.
    const client = new Client({ connection: temporal.client.connection, namespace: `no-such-namespace-${crypto.randomUUID().slice(0, 8)}` });
    const summary = await syncSchedulesAtStart({ client, taskQueue: 'agents', agents: createAgentRegistry().agents.values(), log: (line) => lines.push(line) });
    expect(summary).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Schedules not synced \(the worker runs on; npm run schedules -- sync retries\): .*[Nn]amespace/);
  });

  it('SCHEDULES_SYNC_AT_START=false leaves schedules alone and says so', async () => {
    const lines: string[] = [];
    const summary = await syncSchedulesAtStart({ client: temporal.client, taskQueue: 'agents', agents: [], enabled: false, log: (line) => lines.push(line) });
    expect(summary).toBeUndefined();
    expect(lines).toEqual(['Schedules not synced at start (SCHEDULES_SYNC_AT_START=false): npm run schedules -- sync keeps them.']);
  });
});
