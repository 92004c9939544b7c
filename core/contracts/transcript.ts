/** The transcript activity: starts or extends a stored transcript. Wire contract: the key is the activity type. */

import type { AgentSpec, Content, MessageRef } from '../spec.ts';

/** Input of the activity that starts (or extends) a transcript. */
export interface AppendInput {
  head?: MessageRef;
  messages: Content[];
  /** Stored alongside, and its ref returned: the run's agent spec. */
  spec?: AgentSpec;
}

export interface AppendResult {
  head: MessageRef;
  specRef?: MessageRef;
}

export interface TranscriptActivities {
  appendToTranscript: (input: AppendInput) => Promise<AppendResult>;
}
