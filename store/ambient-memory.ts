import * as z from 'zod';
import { MAX_AMBIENT_SUMMARY_CHARS, type AmbientMemory } from '../core/ambient.ts';
import type { AmbientRememberInput } from '../core/contracts/ambient.ts';
import { summarise } from '../core/run-events.ts';
import { recordFilesFor, type RecordFilesSource } from './record-files.ts';
import { createRecordStore, hashedPath } from './record-store.ts';

/**
 * What each trigger remembers between runs: one small JSON document per agent and trigger
 * (`ambient/ab/cdef….json`, the SHA-256 of agent and trigger id), next to the transcript store
 * like the conversation index. Only the trigger's runs write it, one at a time (the schedule
 * skips overlaps), at the end of each run; a retried write of the same run counts once.
 */
export interface AmbientMemoryStore {
  load(agent: string, trigger: string): Promise<AmbientMemory | undefined>;
  remember(input: AmbientRememberInput): Promise<AmbientMemory>;
}

const ambientMemorySchema: z.ZodType<AmbientMemory> = z.looseObject({
  agent: z.string(),
  trigger: z.string(),
  lastRunAt: z.string().optional(),
  lastOutcome: z.enum(['quiet', 'posted', 'failed']).optional(),
  lastReason: z.string().optional(),
  lastPostedAt: z.string().optional(),
  lastSummary: z.string().optional(),
  cursor: z.string().optional(),
  emailThreadRoot: z.string().optional(),
  runs: z.number(),
  lastWorkflowId: z.string().optional(),
  updatedAt: z.string(),
});

/** The memory in `records` (record files, or the transcript store settings they sit next to). */
export function createAmbientMemoryStore(records: RecordFilesSource, now: () => Date = () => new Date()): AmbientMemoryStore {
  const memories = createRecordStore(recordFilesFor(records), {
    path: ({ agent, trigger }: { agent: string; trigger: string }) => hashedPath('ambient', `${agent}\u0000${trigger}`),
    schema: ambientMemorySchema,
  });
  return {
    load: (agent, trigger) => memories.get({ agent, trigger }),
    async remember(input) {
      const previous = await memories.get(input);
      const sameRun = previous?.lastWorkflowId === input.workflowId;
      const posted = input.outcome === 'posted';
      const memory: AmbientMemory = {
        agent: input.agent,
        trigger: input.trigger,
        lastRunAt: input.runAt,
        lastOutcome: input.outcome,
        ...(input.reason ? { lastReason: summarise(input.reason, MAX_AMBIENT_SUMMARY_CHARS) } : {}),
        // A quiet or failed run keeps what the last post said: the next run compares against it.
        ...(posted ? { lastPostedAt: input.runAt } : previous?.lastPostedAt ? { lastPostedAt: previous.lastPostedAt } : {}),
        ...(posted && input.summary !== undefined
          ? { lastSummary: summarise(input.summary, MAX_AMBIENT_SUMMARY_CHARS) }
          : previous?.lastSummary
            ? { lastSummary: previous.lastSummary }
            : {}),
        ...((input.cursor ?? previous?.cursor) !== undefined ? { cursor: input.cursor ?? previous?.cursor } : {}),
        ...((previous?.emailThreadRoot ?? input.emailThreadRoot)
          ? { emailThreadRoot: previous?.emailThreadRoot ?? input.emailThreadRoot }
          : {}),
        runs: (previous?.runs ?? 0) + (sameRun ? 0 : 1),
        lastWorkflowId: input.workflowId,
        updatedAt: now().toISOString(),
      };
      await memories.put(input, memory);
      return memory;
    },
  };
}
