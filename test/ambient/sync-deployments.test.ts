import { Client, Connection, ScheduleNotFoundError, type ConnectionOptions, type ScheduleDescription } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { syncSchedules } from '../../temporal-client/schedules.ts';
import { defineAgent, type AgentDefinition } from '../../authoring/define-agent.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';
import { listScheduleMemos } from '../../temporal-client/schedule-list.ts';

/**
 * What a sync costs in Temporal requests, counted on the wire, and how deployments sharing a
 * namespace keep to their own schedules.
 */

const temporal = useTemporal();
const slack = { kind: 'slack', channel: 'C0123ABCD' } as const;

/** `count` triggers over agents of ten, yearly, far from any test's clock. */
function agentsWith(
  prefix: string,
  count: number,
  prompt: (agent: number, trigger: number) => string = () => 'What is new?',
): AgentDefinition[] {
  return Array.from({ length: Math.ceil(count / 10) }, (_, agent) =>
    defineAgent({
      name: `${prefix}-${agent}`,
      instructions: 'Digest.',
      triggers: Array.from({ length: Math.min(10, count - agent * 10) }, (_, trigger) => ({
        id: `t${trigger}`,
        cron: `${trigger} 8 1 1 *`,
        prompt: prompt(agent, trigger),
        deliver: slack,
      })),
    }),
  );
}

const idsOf = (deployment: string, agents: AgentDefinition[]) =>
  agents.flatMap((agent) => agent.triggers.map((trigger) => `ambient:${deployment}:${agent.name}:${trigger.id}`)).sort();

/** The schedule list trails changes by a moment; a sync reads it. */
async function waitUntilListed(client: Client, ids: string[]): Promise<void> {
  await expect
    .poll(
      async () => {
        const listed = new Set<string>();
        for await (const entry of listScheduleMemos(client)) if (entry.memo) listed.add(entry.scheduleId);
        return ids.filter((id) => !listed.has(id)).length;
      },
      { timeout: 30_000, interval: 250 },
    )
    .toBe(0);
}

async function conflictTokens(ids: string[]): Promise<string[]> {
  const descriptions: ScheduleDescription[] = await Promise.all(ids.map((id) => temporal.client.schedule.getHandle(id).describe()));
  return descriptions.map((description) => Buffer.from(description.raw.conflictToken ?? []).toString('hex'));
}

describe.skipIf(noTemporal)('schedule sync: its cost, and deployments sharing a namespace', () => {
  let requests = 0;
  let counted: Connection;
  let client: Client;
  const made = new Set<string>();

  beforeAll(async () => {
    // Every gRPC request the client sends passes here.
    const countRequests = ((options, nextCall) => {
      requests += 1;
      return nextCall(options);
    }) as NonNullable<ConnectionOptions['interceptors']>[number];
    counted = await Connection.connect({ address: temporalAddress, interceptors: [countRequests] });
    client = new Client({ connection: counted });
  });
  afterEach(async () => {
    for (const id of made) {
      await temporal.client.schedule
        .getHandle(id)
        .delete()
        .catch((error: unknown) => {
          if (!(error instanceof ScheduleNotFoundError)) throw error;
        });
    }
    made.clear();
  });
  afterAll(async () => {
    await counted?.close();
  });

  it('a sync of 100 unchanged triggers is one list request: no describe per schedule', async () => {
    const taskQueue = temporal.taskQueue('sync-cost');
    const prefix = `cost-${crypto.randomUUID().slice(0, 6)}`;
    const agents = agentsWith(prefix, 100);
    const ids = idsOf(taskQueue, agents);
    for (const id of ids) made.add(id);
    expect(await syncSchedules({ client, taskQueue, agents })).toMatchObject({ created: ids, updated: [], deleted: [] });
    await waitUntilListed(client, ids);

    const before = requests;
    const summary = await syncSchedules({ client, taskQueue, agents });
    const sent = requests - before;
    expect(summary).toMatchObject({ created: [], updated: [], deleted: [], unchanged: ids, conflicts: [] });
    expect(sent).toBeLessThanOrEqual(2);
    expect(summary.calls).toBe(sent);

    // An edit of 3 costs those 3 (describe, delete, create each), not a describe of the other 97.
    const edited = agentsWith(prefix, 100, (agent, trigger) => (agent === 0 && trigger < 3 ? 'What changed?' : 'What is new?'));
    const beforeEdit = requests;
    const afterEdit = await syncSchedules({ client, taskQueue, agents: edited });
    expect(afterEdit).toMatchObject({ created: [], deleted: [], updated: ids.filter((id) => /-0:t[012]$/.test(id)) });
    expect(requests - beforeEdit).toBeLessThanOrEqual(2 + 3 * 3);
    expect((await temporal.client.schedule.getHandle(afterEdit.updated[0]!).describe()).action.args?.[0]).toMatchObject({
      trigger: { prompt: 'What changed?' },
    });
  });

  it("two deployments in one namespace, with the same agents, leave each other's schedules alone", async () => {
    const run = crypto.randomUUID().slice(0, 6);
    const agents = agentsWith(`shared-${run}`, 3);
    const blue = { deployment: `blue-${run}`, taskQueue: temporal.taskQueue('blue') };
    const green = { deployment: `green-${run}`, taskQueue: temporal.taskQueue('green') };
    const blueIds = idsOf(blue.deployment, agents);
    const greenIds = idsOf(green.deployment, agents);
    for (const id of [...blueIds, ...greenIds]) made.add(id);

    expect(await syncSchedules({ client, ...blue, agents })).toMatchObject({ created: blueIds, conflicts: [] });
    expect(await syncSchedules({ client, ...green, agents })).toMatchObject({ created: greenIds, conflicts: [], deleted: [] });
    await waitUntilListed(client, [...blueIds, ...greenIds]);
    const greenBefore = await conflictTokens(greenIds);

    // Blue edits one trigger and drops the others: only blue's schedules change.
    const blueEdited = agentsWith(`shared-${run}`, 1, () => 'Blue changed it.');
    const blueSummary = await syncSchedules({ client, ...blue, agents: blueEdited });
    expect(blueSummary).toMatchObject({ created: [], updated: [blueIds[0]], deleted: blueIds.slice(1), conflicts: [] });
    expect(await conflictTokens(greenIds)).toEqual(greenBefore);
    const greenFirst = await temporal.client.schedule.getHandle(greenIds[0]!).describe();
    expect(greenFirst.memo).toMatchObject({ deployment: green.deployment });
    expect(greenFirst.action).toMatchObject({ taskQueue: green.taskQueue, args: [{ trigger: { prompt: 'What is new?' } }] });

    // Green, with no agents at all, deletes its own and nothing of blue's.
    const blueBefore = await conflictTokens([blueIds[0]!]);
    expect(await syncSchedules({ client, ...green, agents: [] })).toMatchObject({ created: [], updated: [], deleted: greenIds });
    expect(await conflictTokens([blueIds[0]!])).toEqual(blueBefore);
  });

  it("deletes an earlier version's schedules of its task queue (ids without the deployment), and no one else's", async () => {
    const taskQueue = temporal.taskQueue('legacy');
    const elsewhere = temporal.taskQueue('legacy-other');
    const name = `legacy-${crypto.randomUUID().slice(0, 6)}`;
    const agents = [
      defineAgent({ name, instructions: 'Digest.', triggers: [{ id: 'morning', cron: '0 8 1 1 *', prompt: 'News?', deliver: slack }] }),
    ];
    const ours = `ambient:${name}:morning`;
    const theirs = `ambient:${name}-x:morning`;
    const spec = { calendars: [{ hour: 8, dayOfMonth: 1, month: 'JANUARY' as const }] };
    const legacyMemo = { managedBy: 'durable-agents', origin: 'definition', agent: name, trigger: 'morning', digest: 'old' };
    for (const [id, queue] of [
      [ours, taskQueue],
      [theirs, elsewhere],
    ] as const) {
      made.add(id);
      await temporal.client.schedule.create({
        scheduleId: id,
        spec,
        action: { type: 'startWorkflow', workflowType: 'ambientRun', taskQueue: queue, args: [] },
        memo: legacyMemo,
      });
    }
    made.add(`ambient:${taskQueue}:${name}:morning`);
    await waitUntilListed(client, [ours, theirs]);

    const summary = await syncSchedules({ client, taskQueue, agents });
    expect(summary).toMatchObject({ created: [`ambient:${taskQueue}:${name}:morning`], deleted: [ours] });
    await expect(temporal.client.schedule.getHandle(ours).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await expect(temporal.client.schedule.getHandle(theirs).describe()).resolves.toMatchObject({ memo: legacyMemo });
  });
});
