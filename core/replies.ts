/** What a turn shows on its reply channel, and what an approval request carries: shared by workflows, the worker and the dispatcher. */

/** Progress of a turn, shown while it runs (a Slack status message, a terminal line). */
export type TurnStatus =
  | { state: 'thinking'; step: number }
  | { state: 'tool'; step: number; tool: string }
  | { state: 'waiting_for_approval'; tool: string; requestId: string }
  | { state: 'done' }
  | { state: 'stopped' };

export interface ApprovalRequest {
  requestId: string;
  conversationId: string;
  tool: string;
  args: Record<string, unknown>;
  /** Who may decide. */
  approvers: string[];
  /** ISO time after which no decision means denied. */
  expiresAt: string;
}
