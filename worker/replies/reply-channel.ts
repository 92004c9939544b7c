import type { ReplyChannel } from '../../core/conversation.ts';

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

/**
 * One way of talking back to people. Every method may be called again for the same
 * turn (activities retry): implementations make each call idempotent by `key`.
 */
export interface ReplyAdapter {
  /** Shows or updates the turn's status; `key` identifies the turn. */
  status(channel: ReplyChannel, key: string, status: TurnStatus): Promise<void>;
  /** Posts the turn's answer. */
  answer(channel: ReplyChannel, key: string, text: string): Promise<void>;
  /** Asks for approval (buttons, a reply code, a y/n prompt). */
  requestApproval(channel: ReplyChannel, request: ApprovalRequest): Promise<void>;
}

/** Adapters by channel kind; a kind without one is an error at start, not at reply time. */
export type ReplyAdapters = Partial<Record<ReplyChannel['kind'], ReplyAdapter>>;
