/**
 * The contract between whoever delivers messages (the dispatcher, the terminal chat) and
 * the conversation workflow. Wire names here are never renamed in place. Pure module.
 */

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

/** Where a conversation's replies go. Carried in the workflow's start arguments. */
export type ReplyChannel =
  | { kind: 'slack'; teamId: string; channelId: string; threadTs: string }
  | {
      kind: 'email';
      /** The agent's address replies come from. */
      from: string;
      to: string[];
      subject: string;
      /** Message-ID (bare) of the message being answered, for In-Reply-To. */
      inReplyTo: string;
      references: string[];
    }
  | { kind: 'none' };

export interface ConversationStart {
  conversationId: string;
  /** Agent that answers in this conversation. */
  agent: string;
  channel: ReplyChannel;
  /** People who may approve tool calls; empty means "the person who asked". @default [] */
  approvers?: string[];
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
