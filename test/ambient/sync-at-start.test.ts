import { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createAgentRegistry } from '../../agents/index.ts';
import { syncSchedulesAtStart } from '../../worker/sync-at-start.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

/** The worker's start-up sync when it cannot or may not sync; the entry's own run is in cli.test.ts. */
describe.skipIf(noTemporal)('the sync at a worker start', () => {
  const temporal = useTemporal();

  it('a sync that fails logs one line and returns, so the worker starts anyway', async () => {
    const lines: string[] = [];
    // A namespace the server does not have: every schedule call is refused at once.
    const client = new Client({
      connection: temporal.client.connection,
      namespace: `no-such-namespace-${crypto.randomUUID().slice(0, 8)}`,
    });
    const summary = await syncSchedulesAtStart({
      client,
      taskQueue: 'agents',
      agents: createAgentRegistry().agents.values(),
      log: (line) => lines.push(line),
    });
    expect(summary).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Schedules not synced \(the worker runs on; npm run schedules -- sync retries\): .*[Nn]amespace/);
  });

  it('SCHEDULES_SYNC_AT_START=false leaves schedules alone and says so', async () => {
    const lines: string[] = [];
    const summary = await syncSchedulesAtStart({
      client: temporal.client,
      taskQueue: 'agents',
      agents: [],
      enabled: false,
      log: (line) => lines.push(line),
    });
    expect(summary).toBeUndefined();
    expect(lines).toEqual(['Schedules not synced at start (SCHEDULES_SYNC_AT_START=false): npm run schedules -- sync keeps them.']);
  });
});
