/**
 * Activities of ambient runs: wire contracts (the keys are the activity types, never renamed
 * in place). The workflow proxies `AmbientActivities`; the worker's `createAmbientActivities`
 * is declared to return it.
 */
import type { AmbientCheckResult, AmbientMemory, AmbientOutcome } from '../ambient.ts';
import type { ReplyChannel } from '../conversation.ts';
import type { MessageRef } from '../spec.ts';
import type { TriggerSpec } from '../triggers.ts';

export const AMBIENT_BEGIN_ACTIVITY = 'ambient:begin';
export const AMBIENT_CHECK_ACTIVITY = 'ambient:check';
export const AMBIENT_DELIVER_ACTIVITY = 'ambient:deliver';
export const AMBIENT_REMEMBER_ACTIVITY = 'ambient:remember';

export interface AmbientBeginInput {
  agent: string;
  trigger: TriggerSpec;
  /** The run's workflow id: approval requests name it, so decisions come back to this run. */
  workflowId: string;
}

export interface AmbientBegun {
  /** What the trigger's earlier runs left; absent on the first run. */
  memory?: AmbientMemory;
  /** Where this run's approval requests go (the trigger's Slack channel, or its addresses). */
  approvalChannel: ReplyChannel;
}

export interface AmbientCheckInput {
  agent: string;
  trigger: TriggerSpec;
  memory?: AmbientMemory;
  cursor?: string;
}

/** The agent's check's verdict; `declared: false` when the agent has none (then never quiet). */
export type AmbientCheckOutcome = AmbientCheckResult & { declared: boolean };

export interface AmbientDeliverInput {
  agent: string;
  trigger: TriggerSpec;
  /** Marks what is posted, so a retried delivery finds it instead of posting again. */
  key: string;
  text: string;
  /** The whole answer, when it was too large for history. */
  textRef?: MessageRef;
  /** The trigger's first email, which later emails are threaded under. */
  emailThreadRoot?: string;
}

export type AmbientDelivered = (
  { kind: 'slack'; teamId: string; channelId: string; ts: string } | { kind: 'email'; messageId: string; threadRoot: string }
) & {
  /** The conversation a reply to the posted message continues. */
  conversationId: string;
};

export interface AmbientRememberInput {
  agent: string;
  trigger: string;
  workflowId: string;
  /** When the run started (ISO). */
  runAt: string;
  outcome: AmbientOutcome;
  reason?: string;
  /** Summary of what was posted (≤ 300 characters). */
  summary?: string;
  cursor?: string;
  emailThreadRoot?: string;
}

export interface AmbientActivities {
  [AMBIENT_BEGIN_ACTIVITY]: (input: AmbientBeginInput) => Promise<AmbientBegun>;
  [AMBIENT_CHECK_ACTIVITY]: (input: AmbientCheckInput) => Promise<AmbientCheckOutcome>;
  [AMBIENT_DELIVER_ACTIVITY]: (input: AmbientDeliverInput) => Promise<AmbientDelivered>;
  [AMBIENT_REMEMBER_ACTIVITY]: (input: AmbientRememberInput) => Promise<AmbientMemory>;
}
