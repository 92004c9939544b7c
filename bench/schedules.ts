import { cpus, loadavg } from 'node:os';
import { Client, Connection, ScheduleNotFoundError, type ConnectionOptions } from '@temporalio/client';
import { syncSchedules, type SyncSummary } from '../temporal-client/schedules.ts';
import { defineAgent, type AgentDefinition } from '../authoring/define-agent.ts';
import type { TriggerOptions } from '../core/triggers.ts';
import { findTemporalCli, startDevServer } from '../local/temporal-dev-server.ts';
import { round, table } from './report.ts';
import { listScheduleMemos } from '../temporal-client/schedule-list.ts';

export interface SchedulesBenchOptions {
  /** Agents, each with `triggersPerAgent` triggers. @default 10 */
  agents?: number;
  /** @default 10 */
  triggersPerAgent?: number;
  /** Triggers edited before the third sync. @default 10 */
  edited?: number;
  /** Schedules sync describes, creates or updates at once. @default 8 */
  concurrency?: number;
  log?: (line: string) => void;
}

interface Step {
  step: string;
  ms: number;
  /** Requests syncSchedules counted itself. */
  calls: number;
  /** gRPC requests seen on the connection: the check on `calls`. */
  grpc_requests: number;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'];

/**
 * Time and Temporal requests to sync 100 triggers on a dev server: the first sync creates
 * them, the second changes nothing, the third follows an edit of 10.
 */
export async function runSchedulesBench(options: SchedulesBenchOptions = {}): Promise<{ section: unknown; text: string }> {
  const agentCount = options.agents ?? 10;
  const perAgent = options.triggersPerAgent ?? 10;
  const editedCount = options.edited ?? 10;
  const concurrency = options.concurrency ?? 8;
  const log = options.log ?? (() => undefined);
  const loadBefore = loadavg();

  log('schedules: starting a dev server');
  // The CLI the project builds (as tests and npm start use it), never the SDK's download: no internet needed.
  const server = await startDevServer({ executable: findTemporalCli(process.env) });
  let requests = 0;
  // nextCall's result is the call itself; grpc-js types it as an interface of the class the type asks for.
  const countRequests = ((interceptorOptions, nextCall) => {
    requests += 1;
    return nextCall(interceptorOptions);
  }) as NonNullable<ConnectionOptions['interceptors']>[number];
  const connection = await Connection.connect({ address: server.address, interceptors: [countRequests] });
  const client = new Client({ connection });
  const taskQueue = `bench-schedules-${crypto.randomUUID()}`;
  const run = crypto.randomUUID().slice(0, 6);
  const agentsWith = (prompt: (agent: number, trigger: number) => string): AgentDefinition[] =>
    Array.from({ length: agentCount }, (_, agent) =>
      defineAgent({
        name: `bench-${run}-${agent}`,
        instructions: 'Digest.',
        triggers: Array.from({ length: perAgent }, (_, trigger): TriggerOptions => ({
          id: `t${trigger}`,
          // Once a year, far from now: the bench measures sync, not runs.
          cron: `${trigger} ${8 + (agent % 10)} 1 1 *`,
          timezone: ZONES[(agent + trigger) % ZONES.length]!,
          prompt: prompt(agent, trigger),
          deliver: { kind: 'slack', channel: 'C0BENCH' },
        })),
      }),
    );
  const original = agentsWith(() => 'What is new?');
  const edits = Math.min(editedCount, agentCount * perAgent);
  const edited = agentsWith((agent, trigger) => (agent * perAgent + trigger < edits ? 'What changed since the last run?' : 'What is new?'));

  const steps: Step[] = [];
  const measure = async (step: string, agents: AgentDefinition[]) => {
    const requestsBefore = requests;
    const started = performance.now();
    const summary: SyncSummary = await syncSchedules({ client, taskQueue, agents, concurrency });
    const ms = performance.now() - started;
    steps.push({
      step,
      ms: round(ms),
      calls: summary.calls,
      grpc_requests: requests - requestsBefore,
      created: summary.created.length,
      updated: summary.updated.length,
      deleted: summary.deleted.length,
      unchanged: summary.unchanged.length,
    });
    log(`schedules: ${step}: ${round(ms)} ms, ${summary.calls} calls`);
  };
  // Syncs run at worker starts, seconds apart at least: by then the list shows what the last one did.
  const ids = original.flatMap((agent) => agent.triggers.map((trigger) => `ambient:${taskQueue}:${agent.name}:${trigger.id}`));
  const untilListed = async () => {
    for (let attempt = 0; attempt < 300; attempt += 1) {
      const listed = new Set<string>();
      for await (const entry of listScheduleMemos(client)) if (entry.memo) listed.add(entry.scheduleId);
      if (ids.every((id) => listed.has(id))) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    await measure('first sync (creates)', original);
    await untilListed();
    await measure('second sync (no change)', original);
    await measure(`third sync (${edits} edited)`, edited);
  } finally {
    for (const id of ids) {
      await client.schedule
        .getHandle(id)
        .delete()
        .catch((error: unknown) => {
          if (!(error instanceof ScheduleNotFoundError)) throw error;
        });
    }
    await connection.close();
    await server.stop();
  }

  const triggers = agentCount * perAgent;
  const unchanged = steps.find((step) => step.step.startsWith('second'));
  const goal = {
    unchanged_sync_requests: { value: unchanged?.grpc_requests, goal_at_most: 2, met: (unchanged?.grpc_requests ?? Infinity) <= 2 },
  };
  const section = {
    goal,
    triggers,
    agents: agentCount,
    concurrency,
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', node: process.version },
    load_average_before: loadBefore.map((value) => round(value, 2)),
    steps,
  };
  const text = table(
    `Sync of ${triggers} triggers (${agentCount} agents) on a dev server, ${concurrency} requests in flight`,
    ['step', 'ms', 'calls (counted)', 'gRPC requests', 'created', 'updated', 'deleted', 'unchanged'],
    steps.map((step) => [step.step, step.ms, step.calls, step.grpc_requests, step.created, step.updated, step.deleted, step.unchanged]),
  );
  return { section, text };
}
