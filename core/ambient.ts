import type { TriggerSpec } from './triggers.ts';

/** Workflow type every ambient schedule starts. */
export const AMBIENT_RUN_WORKFLOW = 'ambientRun';

export interface AmbientRunInput {
  agent: string;
  trigger: TriggerSpec;
  origin: 'definition' | 'chat';
  /** The person who asked, for chat-made schedules. */
  owner?: string;
}

export type AmbientOutcome = 'quiet' | 'posted' | 'failed';

export interface AmbientRunResult {
  outcome: AmbientOutcome;
  /** Small cursor handed to the next run through the schedule's last completion result. */
  cursor?: string;
  /** Where it posted (Slack channel/ts, or email message id). */
  posted?: { kind: 'slack'; channel: string; ts: string } | { kind: 'email'; messageId: string };
  /** At most 300 characters, no secrets. */
  summary?: string;
}
