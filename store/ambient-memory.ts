import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { MAX_AMBIENT_SUMMARY_CHARS, type AmbientMemory } from '../core/ambient.ts';
import type { AmbientRememberInput } from '../core/contracts/ambient.ts';
import { summarise } from '../core/run-events.ts';
import { createLocalRecordFiles, createMemoryRecordFiles, recordFilesFor, type RecordFiles } from './record-files.ts';
import type { TranscriptStoreSettings } from './create-store.ts';

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

export function createAmbientMemoryStore(files: RecordFiles, now: () => Date = () => new Date()): AmbientMemoryStore {
  const keyOf = (agent: string, trigger: string) => {
    const digest = createHash('sha256').update(`${agent}\u0000${trigger}`).digest('hex');
    return `ambient/${digest.slice(0, 2)}/${digest.slice(2)}.json`;
  };
  const load = async (agent: string, trigger: string) => {
    const text = await files.read(keyOf(agent, trigger));
    return text === undefined ? undefined : (JSON.parse(text) as AmbientMemory);
  };
  return {
    load,
    async remember(input) {
      const previous = await load(input.agent, input.trigger);
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
        ...((previous?.emailThreadRoot ?? input.emailThreadRoot) ? { emailThreadRoot: previous?.emailThreadRoot ?? input.emailThreadRoot } : {}),
        runs: (previous?.runs ?? 0) + (sameRun ? 0 : 1),
        lastWorkflowId: input.workflowId,
        updatedAt: now().toISOString(),
      };
      await files.write(keyOf(input.agent, input.trigger), JSON.stringify(memory));
      return memory;
    },
  };
}

export function createLocalAmbientMemoryStore(options: { directory: string }): AmbientMemoryStore {
  return createAmbientMemoryStore(createLocalRecordFiles(options));
}

/** Memory of one process that never restarts (tests of a single worker). */
export function createInMemoryAmbientMemoryStore(): AmbientMemoryStore {
  return createAmbientMemoryStore(createMemoryRecordFiles());
}

/** The memory next to the transcript store the same variables describe (TRANSCRIPT_STORE, TRANSCRIPT_DIR, TRANSCRIPT_BUCKET, TRANSCRIPT_PREFIX). */
export function createAmbientMemoryStoreFor(settings: TranscriptStoreSettings, deps: { s3Client?: S3Client } = {}): AmbientMemoryStore {
  return createAmbientMemoryStore(recordFilesFor(settings, deps));
}
