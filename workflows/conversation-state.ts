import type { CancellationScope } from '@temporalio/workflow';
import type { ConversationContext, ReplyChannel, StopRequest, TurnProgress } from '../core/conversation.ts';
import type { AgentSpec, MessageRef } from '../core/spec.ts';

/** What the parts of a conversation (intake, turns, status) share: one run's mutable state. */
export interface ConversationState {
  workflowId: string;
  /** False until what an earlier run saved has been loaded: messages wait for it. */
  ready: boolean;
  transcriptHead?: MessageRef;
  /** Turns started so far: the next message lands in `turns + 1`. */
  turns: number;
  running?: RunningTurn;
  /** Context given since the last turn began (the channel a person has open); the next turn tells the model. */
  context?: ConversationContext;
}

export interface RunningTurn {
  turn: number;
  scope: CancellationScope;
  runWorkflowId: string;
  /** Who may approve this turn's calls when no policy names anyone: the configured approvers, else the requesters. */
  approvers: string[];
  /** The conversation's configured approvers. */
  configured: string[];
  /** Every identity (user id, email) of every person whose message the turn answers. */
  requesters: string[];
  /** The turn's agent, once the worker resolved it: its approval policies apply. */
  spec?: AgentSpec;
  progress: Omit<TurnProgress, 'runWorkflowId'>;
  /** A tool step not yet shown on the reply channel: shown even if the run has moved on. */
  unshownTool?: Omit<TurnProgress, 'runWorkflowId'>;
  stop?: StopRequest;
  /** Where the turn answers (a refused native stop is answered there). */
  channel?: ReplyChannel;
}
