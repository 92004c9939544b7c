/**
 * Tool activities (one per tool, `tool:<name>`) and the approval predicate. Wire contracts:
 * activity types are recorded in history and never renamed in place.
 */

import type { ApprovalRecorded, ReplyChannel } from '../conversation.ts';
import type { PlannedCall, ToolResultRef } from '../spec.ts';

/** Activity type of a tool. */
export type ToolActivityType = `tool:${string}`;

export function toolActivityType(toolName: string): ToolActivityType {
  return `tool:${toolName}`;
}

/**
 * Who a call answers, and where: filled in by the workflow from its run's conversation, never
 * from the model's arguments, so a tool may trust it (whose schedule this is, where to post).
 */
export interface ToolConversation {
  /** Workflow id of the conversation (an ambient run's own id when no one asked). */
  conversationId: string;
  /** The agent whose run made the call. */
  agent: string;
  /** Where the conversation's replies go. */
  channel: ReplyChannel;
  /** User ids of the turn's message authors (a Slack user id, or the address of an email's sender); empty when nobody asked. */
  requesters: string[];
}

/** A tool activity's input. Wire type: add optional fields only (recorded histories carry it). */
export interface ToolInput {
  call: PlannedCall;
  /** Set when the run answers a conversation. @default absent (a run started on its own) */
  conversation?: ToolConversation;
  /** The approval the conversation recorded for this call, when it needed one; the worker checks it before the tool runs. */
  approval?: ApprovalGrant;
}

/** Where a call's recorded approval is: the tool activity looks it up and checks it names this very call. */
export interface ApprovalGrant {
  conversationId: string;
  requestId: string;
}

/** Activity that records a granted approval, worker side, before the waiting run hears of it. */
export const RECORD_APPROVAL_ACTIVITY = 'approvals:record';

export interface RecordApprovalInput extends ApprovalGrant {
  /** The run that asked: only its tool activities may use the approval. */
  runWorkflowId: string;
  /** What runs: `tool:<name>` or `mcp:<server>/<tool>`. */
  target: string;
  /** The arguments the person saw (`{ argsRef }` for large ones). */
  args: Record<string, unknown>;
  approver: string;
  decidedAt: string;
}

/** Activity that hands a decision the conversation accepted to the run that waits, as that run's `approvalVerdict` update. */
export const DELIVER_APPROVAL_ACTIVITY = 'approvals:deliver';

export interface DeliverApprovalInput {
  /** The run that asked. */
  runWorkflowId: string;
  verdict: ApprovalRecorded;
}

export interface ApprovalRecordActivities {
  [RECORD_APPROVAL_ACTIVITY]: (input: RecordApprovalInput) => Promise<void>;
  /** Fails non-retryably with `ApprovalNoLongerPending` when the run no longer waits for the request (finished, timed out). */
  [DELIVER_APPROVAL_ACTIVITY]: (input: DeliverApprovalInput) => Promise<void>;
}

/** The thing a call runs, as approvals name it: a tool activity, or one tool of one MCP server. */
export function approvalTarget(tool: { name: string; mcp?: { server: string; tool: string } }): string {
  return tool.mcp ? `mcp:${tool.mcp.server}/${tool.mcp.tool}` : `tool:${tool.name}`;
}

/** One tool: stores its outcome and returns where it is. */
export type ToolActivity = (input: ToolInput) => Promise<ToolResultRef>;

/** Every tool of a worker, by activity type. */
export type ToolActivities = Record<ToolActivityType, ToolActivity>;

/** Input of the `needsApproval` activity. */
export interface NeedsApprovalInput {
  tool: string;
  call: PlannedCall;
}

export interface ApprovalActivities {
  /** Evaluates a tool's approval predicate on a call's arguments (in the worker, which holds the handlers). */
  needsApproval: (input: NeedsApprovalInput) => Promise<boolean>;
}
