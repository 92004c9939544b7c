import type { ReplyChannel } from '../../core/conversation.ts';
import type { ApprovalRequest, TurnStatus } from '../../core/replies.ts';

export type { ApprovalRequest, TurnStatus };

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
