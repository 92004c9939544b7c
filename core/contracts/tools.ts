/**
 * Tool activities (one per tool, `tool:<name>`) and the approval predicate. Wire contracts:
 * activity types are recorded in history and never renamed in place.
 */

import type { PlannedCall, ToolResultRef } from '../spec.ts';

/** Activity type of a tool. */
export type ToolActivityType = `tool:${string}`;

export function toolActivityType(toolName: string): ToolActivityType {
  return `tool:${toolName}`;
}

/** A tool activity's input. */
export interface ToolInput {
  call: PlannedCall;
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

export interface ApprovalRecordActivities {
  [RECORD_APPROVAL_ACTIVITY]: (input: RecordApprovalInput) => Promise<void>;
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
