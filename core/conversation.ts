/**
 * The contract between whoever delivers messages (the dispatcher, the terminal chat) and
 * the conversation workflow. Wire names here are never renamed in place. Pure module.
 */

import type { Duration, TokenUsage } from './spec.ts';
import type { ToolStepOutput } from './run-events.ts';

/** Workflow type of a conversation; its workflow id is the conversation id. */
export const CONVERSATION_WORKFLOW = 'conversation';

/** Update that delivers one message; its update id is the source event id. */
export const MESSAGE_UPDATE = 'message';
/** Update that decides a pending approval. */
export const APPROVAL_UPDATE = 'decideApproval';
/** Update that cancels the turn in progress. */
export const STOP_UPDATE = 'stop';

/** Queries a UI needs. */
export const TURNS_QUERY = 'turns';
export const PENDING_APPROVALS_QUERY = 'pendingApprovals';
export const CURRENT_STEP_QUERY = 'currentStep';
/** Where the person is in Slack while they talk to the agent (the assistant pane's context). */
export const CONTEXT_UPDATE = 'context';

export interface ConversationContext {
  /** The Slack channel the person has open beside the assistant thread (`assistant_view` apps). */
  channelId?: string;
  /** What the person has open in Slack, most relevant first (`app_context_changed`, `agent_view` apps). */
  entities?: ViewEntity[];
  /** Who it is: a Slack user id. */
  by: string;
}

/** One thing a person has open in Slack, as `app_context_changed` names it. */
export type ViewEntity =
  | { type: 'channel'; channelId: string }
  | { type: 'canvas'; canvasId: string }
  | { type: 'list'; listId: string }
  | { type: 'message'; channelId: string; messageTs: string };

/** Entities kept of one context change. */
export const MAX_VIEW_ENTITIES = 10;

/**
 * Workflow type, update and query of a person's view context (`agent_view` apps): what they
 * have open in Slack while the agent is visible, kept per person until their next message,
 * whichever thread it starts. Workflow id: `slackViewContextId(team, user)`.
 */
export const VIEW_CONTEXT_WORKFLOW = 'viewContext';
export const VIEW_CONTEXT_UPDATE = 'setViewContext';
export const LATEST_VIEW_CONTEXT_QUERY = 'latestViewContext';

/** One change of a person's view context, as kept. */
export interface ViewContextChange {
  /** The source event id: the conversation takes each change once (its update id). */
  id: string;
  context: ConversationContext;
  /** ISO time the edge received it. */
  at: string;
}

/** A person's thumbs up or down on a turn's answer. */
export const FEEDBACK_UPDATE = 'feedback';

export type FeedbackValue = 'positive' | 'negative';

export interface FeedbackRequest {
  turn: number;
  value: FeedbackValue;
  /** Who clicked: a Slack user id. */
  by: string;
}

/** The feedback on one turn: each person's latest click, and the counts they make. */
export interface TurnFeedback {
  positive: number;
  negative: number;
  by: Record<string, FeedbackValue>;
}

/** Where a conversation's replies go. Carried in the workflow's start arguments. */
export type ReplyChannel =
  | {
      kind: 'slack';
      teamId: string;
      channelId: string;
      /** Root ts of the thread; '' posts at the top level of the channel (an ambient run's approval requests, before it has a thread). */
      threadTs: string;
      /** Who asked this turn: outside a DM, Slack streams an answer only to a named recipient (`chat.startStream`). */
      recipientUserId?: string;
    }
  | {
      kind: 'email';
      /** The agent's address replies come from. */
      from: string;
      to: string[];
      subject: string;
      /** Message-ID (bare) of the message being answered, for In-Reply-To; '' for a message that answers none. */
      inReplyTo: string;
      references: string[];
      /** The conversation a reply reaches (signed into Reply-To). @default `email:<references[0] ?? inReplyTo>` */
      conversationId?: string;
    }
  | { kind: 'none' }
  /** The terminal chat: replies reach the chat process (see worker/replies/terminal.ts). */
  | { kind: 'terminal'; session: string };

export interface ConversationStart {
  conversationId: string;
  /** Agent that answers in this conversation. */
  agent: string;
  channel: ReplyChannel;
  /** People who may approve tool calls; empty means "the person who asked". @default [] */
  approvers?: string[];
  options?: ConversationOptions;
}

export interface ConversationOptions {
  /** The conversation completes after this long without a message; the next one resumes it. @default the worker's CONVERSATION_IDLE_TIMEOUT ('24 hours') */
  idleTimeout?: Duration;
  /** Approval timeout of tools and agents that set none. @default the worker's APPROVAL_TIMEOUT ('1 hour') */
  approvalTimeout?: Duration;
  /** Continue as new, between turns, once history has this many events (or Temporal suggests it). @default 10_000 */
  maxHistoryEvents?: number;
  /** …or this many bytes. @default 20 MiB */
  maxHistoryBytes?: number;
  /** Task queue of model calls. @default `<the conversation's task queue>-model` */
  modelTaskQueue?: string;
}

export interface IncomingMessage {
  /** Source event id (Slack event or message id, email Message-ID): the update id too. */
  id: string;
  text: string;
  user: { id: string; name?: string; email?: string };
  receivedAt: string;
  /** For email: the channel to answer this message on (threading headers move on). */
  channel?: ReplyChannel;
}

export interface MessageAccepted {
  /** True when this id had been delivered before: nothing new was queued. */
  duplicate: boolean;
  /** Turn number this message will be (or was) answered in. */
  turn: number;
}

export interface ApprovalDecision {
  requestId: string;
  decision: 'approve' | 'deny';
  /** A Slack user id or an email address. */
  approver: string;
}

/** What `stop` may say. */
export interface StopRequest {
  /** Who asks: while a turn runs, only its requesters and approvers may stop it (the validator refuses anyone else). */
  by?: string;
  /**
   * Slack's native stop button (`agent_session_stopped`): the person clicked in the thread and
   * sees nothing else, so a refusal is accepted and answered there (the turn goes on) instead
   * of being refused silently by the validator.
   */
  answerRefusal?: boolean;
}

export interface StopResult {
  /** False when no turn was running, or (with `answerRefusal`) when the person may not stop it. */
  stopped: boolean;
  turn?: number;
  /** Why the stop was refused, when it was answered in the thread. */
  refused?: string;
}

/** What `decideApproval` answers once the decision is recorded. */
export interface ApprovalRecorded extends ApprovalDecision {
  /** Workflow time of the decision (ISO). */
  decidedAt: string;
}

export type TurnState = 'queued' | 'running' | 'answered' | 'stopped' | 'failed';

/** One turn as the `turns` query shows it. */
export interface TurnSummary {
  turn: number;
  /** Ids of the messages this turn answers (several when they arrived during an earlier turn). */
  messageIds: string[];
  status: TurnState;
  /** Workflow id of the turn's agent run (child workflow). */
  runWorkflowId?: string;
  /** The first few hundred characters of the answer (or of why there is none). */
  answerExcerpt?: string;
  stopReason?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Thumbs up and down on the answer, when anyone clicked. */
  feedback?: TurnFeedback;
  /** The run's tokens and cost (US dollars, core/models.ts prices), sub-agents included; set once it answered. */
  usage?: TokenUsage;
}

/** A request waiting for a person, as the `pendingApprovals` query shows it. */
export interface PendingApproval {
  requestId: string;
  tool: string;
  args: Record<string, unknown>;
  /** Who may decide. */
  approvers: string[];
  expiresAt: string;
  turn: number;
  /** The run that waits: the turn's run, or one of its sub-agents. */
  runWorkflowId: string;
  /** What runs once approved: `tool:<name>` or `mcp:<server>/<tool>`. @default `tool:<tool>` */
  target?: string;
}

/** What the conversation is doing now (the `currentStep` query). */
export interface CurrentStep {
  state: 'idle' | 'thinking' | 'tool' | 'waiting_for_approval';
  /** The running turn, or the last one when idle. */
  turn: number;
  /** Model calls of the running turn so far. */
  step?: number;
  tools?: string[];
  runWorkflowId?: string;
  /** Messages waiting for the next turn. */
  queued: number;
}

/** Signals between a conversation and its agent runs: wire names, never renamed in place. */
export const TURN_PROGRESS_SIGNAL = 'turnProgress';
export const APPROVAL_REQUESTED_SIGNAL = 'approvalRequested';
export const APPROVAL_CLOSED_SIGNAL = 'approvalClosed';
/**
 * The update by which an accepted decision reaches the run that waits (from the conversation,
 * through an activity), validated by the run: a decision never arrives as a bare signal.
 */
export const APPROVAL_VERDICT_UPDATE = 'approvalVerdict';

/** Sent by a turn's run to its conversation as it moves. */
export interface TurnProgress {
  runWorkflowId: string;
  step: number;
  state: 'thinking' | 'tool';
  tools?: string[];
  /** Set once the step's (first) call finished: what its card shows. */
  output?: ToolStepOutput;
}

/** Sent by a run to its conversation before it asks a person. */
export interface ApprovalRequested {
  runWorkflowId: string;
  requestId: string;
  tool: string;
  args: Record<string, unknown>;
  approvers: string[];
  expiresAt: string;
  /** The asking run's agent (a sub-agent's name for its calls), whose policy applies. @default the turn's agent */
  agent?: string;
  /** What runs once approved: `tool:<name>` or `mcp:<server>/<tool>`. @default `tool:<tool>` */
  target?: string;
}

/** Sent by the conversation to the waiting run once a decision is accepted. */
export type ApprovalVerdict = ApprovalRecorded;

/** Sent by a run when a request closes without a decision (timed out). */
export interface ApprovalClosed {
  requestId: string;
  outcome: 'timed_out';
}

/** Whether `approver` may decide: a configured approver, or, when none are configured, a requester. */
export function mayApprove(approver: string, approvers: readonly string[], requesters: readonly string[]): boolean {
  const who = approver.trim().toLowerCase();
  const allowed = approvers.length > 0 ? approvers : requesters;
  return who !== '' && allowed.some((candidate) => candidate.trim().toLowerCase() === who);
}
