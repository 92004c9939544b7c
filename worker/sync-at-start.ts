import type { Client } from '@temporalio/client';
import { syncSchedules, type SyncSummary } from '../client/schedules.ts';
import type { AgentDefinition } from '../core/define-agent.ts';

export interface SyncAtStartOptions {
  client: Client;
  /** The agents' task queue (the scope of sync's deletions). */
  taskQueue: string;
  agents: Iterable<AgentDefinition>;
  /** Receives the one line saying what changed, or why nothing did. */
  log(line: string): void;
}

/**
 * The worker's start-up sync: Temporal's schedules made to match the agents' triggers, in one
 * logged line. A failure is logged in one line too and does not stop the worker: runs already
 * scheduled go on, and `npm run schedules -- sync` can be run by hand.
 */
export async function syncSchedulesAtStart(options: SyncAtStartOptions): Promise<SyncSummary | undefined> {
  const { taskQueue } = options;
  try {
    const summary = await syncSchedules({ client: options.client, taskQueue, agents: options.agents });
    const conflicts = summary.conflicts.length ? `; left alone, held by schedules sync did not create: ${summary.conflicts.join(', ')}` : '';
    options.log(
      `Schedules synced for task queue "${taskQueue}": ${summary.created.length} created, ${summary.updated.length} updated, ${summary.deleted.length} deleted, ${summary.unchanged.length} unchanged${conflicts}.`,
    );
    return summary;
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    // Temporal Cloud refuses schedule calls to credentials with only Read on the namespace.
    const hint = /permission|denied|unauthori[sz]ed/i.test(message) ? " The worker's Temporal credentials need the namespace's Write permission." : '';
    options.log(`Schedules not synced (the worker runs on; npm run schedules -- sync retries): ${message.split('\n')[0]}.${hint}`);
    return undefined;
  }
}
