import type { Client } from '@temporalio/client';
import { syncSchedules, type SyncSummary } from '../temporal-client/schedules.ts';
import type { AgentDefinition } from '../authoring/define-agent.ts';

export interface SyncAtStartOptions {
  client: Client;
  /** The agents' task queue (the scope of sync's deletions). */
  taskQueue: string;
  /** `AGENTS_DEPLOYMENT`: the installation's name in schedule ids and memos. @default the task queue */
  deployment?: string | undefined;
  agents: Iterable<AgentDefinition>;
  /** Receives the one line saying what changed, or why nothing did. */
  log(line: string): void;
  /** `SCHEDULES_SYNC_AT_START`: false leaves the schedules to the deploy's `npm run schedules -- sync`. @default true */
  enabled?: boolean;
}

/**
 * The worker's start-up sync: Temporal's schedules made to match the agents' triggers, in one
 * logged line. A failure is logged in one line too and does not stop the worker: runs already
 * scheduled go on, and `npm run schedules -- sync` can be run by hand.
 */
export async function syncSchedulesAtStart(options: SyncAtStartOptions): Promise<SyncSummary | undefined> {
  const { taskQueue } = options;
  if (options.enabled === false) {
    options.log('Schedules not synced at start (SCHEDULES_SYNC_AT_START=false): npm run schedules -- sync keeps them.');
    return undefined;
  }
  try {
    const summary = await syncSchedules({
      client: options.client,
      taskQueue,
      ...(options.deployment ? { deployment: options.deployment } : {}),
      agents: options.agents,
    });
    const conflicts = summary.conflicts.length
      ? `; left alone, held by schedules sync did not create: ${summary.conflicts.join(', ')}`
      : '';
    options.log(
      `Schedules synced for task queue "${taskQueue}": ${summary.created.length} created, ${summary.updated.length} updated, ${summary.deleted.length} deleted, ${summary.unchanged.length} unchanged${conflicts}.`,
    );
    return summary;
  } catch (error) {
    const message = describe(error);
    // Temporal Cloud refuses schedule calls to credentials with only Read on the namespace.
    const hint = /permission|denied|unauthori[sz]ed/i.test(message)
      ? " The worker's Temporal credentials need the namespace's Write permission."
      : '';
    options.log(`Schedules not synced (the worker runs on; npm run schedules -- sync retries): ${message}.${hint}`);
    return undefined;
  }
}

/** The SDK's message says what it tried ("Failed to describe schedule"); the gRPC cause says why. */
function describe(error: unknown): string {
  const messages: string[] = [];
  for (
    let current = error as { message?: string; cause?: unknown } | undefined;
    current && messages.length < 4;
    current = current.cause as typeof current
  ) {
    if (current.message) messages.push(current.message.split('\n')[0]!.replace(/\.$/, ''));
  }
  return messages.join(': ') || String(error);
}
