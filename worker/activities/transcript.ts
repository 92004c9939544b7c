import type { TranscriptActivities } from '../../core/contracts/transcript.ts';
import type { TranscriptStore } from '../../store/transcript-store.ts';
import { appendMessages } from '../../store/transcript-chain.ts';

/** `appendToTranscript`: starts or extends a transcript, and stores the run's spec so model steps can pass its ref. */
export function createTranscriptActivities(store: TranscriptStore): TranscriptActivities {
  return {
    async appendToTranscript(input) {
      const head = await appendMessages(store, input.head, input.messages);
      return { head, ...(input.spec ? { specRef: await store.put(input.spec) } : {}) };
    },
  };
}
