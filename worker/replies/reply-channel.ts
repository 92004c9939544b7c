import type { ReplyChannel } from '../../core/conversation.ts';
import type { ApprovalEnded, ApprovalRequest, StartedThread, ThreadStart, TurnStatus } from '../../core/replies.ts';

export type { ApprovalEnded, ApprovalRequest, StartedThread, ThreadStart, TurnStatus };

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
  /**
   * Shows on the request's message how it ended, and takes its buttons away, so nobody decides
   * again on something decided. Adapters whose requests cannot change once sent (an email)
   * leave it out.
   */
  approvalEnded?(channel: ReplyChannel, request: ApprovalRequest, ended: ApprovalEnded): Promise<void>;
  /**
   * Posts a message that starts a thread of its own (an ambient run's result): a new message
   * in a Slack channel, a new email. Idempotent by `key`. Adapters that cannot start threads leave it out.
   */
  startThread?(target: ThreadStart, key: string, text: string): Promise<StartedThread>;
}

/** Adapters by channel kind; a kind without one is an error at start, not at reply time. */
export type ReplyAdapters = Partial<Record<ReplyChannel['kind'], ReplyAdapter>>;
