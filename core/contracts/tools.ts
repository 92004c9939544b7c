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
