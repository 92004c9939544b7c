/** What a turn shows on its reply channel, and what an approval request carries: shared by workflows, the worker and the dispatcher. */

import type { ToolStepOutput } from './run-events.ts';

/** Progress of a turn, shown while it runs (a Slack status message, a terminal line). */
export type TurnStatus =
  /** `title`: what the turn is about (its first message, cut), for a new Slack agent session. */
  | { state: 'thinking'; step: number; title?: string }
  /** `output`: set when the step's call finished, with a bounded, redacted excerpt (or its error type). */
  | { state: 'tool'; step: number; tool: string; output?: ToolStepOutput }
  | { state: 'waiting_for_approval'; tool: string; requestId: string }
  | { state: 'done' }
  | { state: 'stopped' }
  /** The conversation ended (closed after being idle): only channels with sessions show it. */
  | { state: 'closed' };

/**
 * The failure type of an approval request whose arguments cannot be shown whole (too long,
 * or stored and unreadable): nobody is asked, and the call is denied with the failure's message.
 */
export const APPROVAL_NOT_SHOWN = 'ApprovalNotShown';

export interface ApprovalRequest {
  requestId: string;
  conversationId: string;
  tool: string;
  /** The arguments; `{ argsRef }` when they were too large to travel inline (then `argsRef` says where they are). */
  args: Record<string, unknown>;
  /** Where the arguments are stored when they did not travel inline: the reply step reads them, so the person sees them whole. */
  argsRef?: string;
  /** Who may decide. */
  approvers: string[];
  /** ISO time after which no decision means denied. */
  expiresAt: string;
}

/**
 * How an approval request ended, for the message that asked: decided by a person, nobody
 * decided in time, or its turn ended first (stopped, or failed) and took the request with it.
 */
export type ApprovalEnded = { outcome: 'approved' | 'denied'; by: string; at: string } | { outcome: 'timed_out' | 'withdrawn'; at: string };

/** Where an ambient run's result starts a new thread: a Slack channel, or email addresses. */
export type ThreadStart =
  | { kind: 'slack'; channelId: string; /** @default the bot's own workspace (auth.test) */ teamId?: string }
  | {
      kind: 'email';
      /** The agent's address. */
      from: string;
      to: string[];
      subject: string;
      /** Bare Message-ID of an earlier message to thread under (the trigger's first email). @default a new thread */
      threadRoot?: string;
    };

/** Where a new thread was started. */
export type StartedThread =
  | { kind: 'slack'; teamId: string; channelId: string; ts: string }
  | { kind: 'email'; /** Bare Message-ID of the message sent. */ messageId: string };
