/**
 * The reply channel as activities (the worker sends each to the adapter of the channel's
 * kind). Wire contracts: activity types never renamed in place.
 */

import type { ReplyChannel } from '../conversation.ts';
import type { ApprovalEnded, ApprovalRequest, TurnStatus } from '../replies.ts';

export const REPLY_STATUS_ACTIVITY = 'reply:status';
export const REPLY_ANSWER_ACTIVITY = 'reply:answer';
export const REPLY_APPROVAL_ACTIVITY = 'reply:requestApproval';
export const REPLY_APPROVAL_ENDED_ACTIVITY = 'reply:approvalEnded';

export interface ReplyStatusInput {
  channel: ReplyChannel;
  /** The turn's key on the channel: one status message per key, edited as the turn moves. */
  key: string;
  status: TurnStatus;
}

export interface ReplyAnswerInput {
  channel: ReplyChannel;
  key: string;
  text: string;
}

export interface ReplyApprovalInput {
  channel: ReplyChannel;
  request: ApprovalRequest;
}

export interface ReplyApprovalEndedInput {
  channel: ReplyChannel;
  request: ApprovalRequest;
  ended: ApprovalEnded;
}

export interface ReplyActivities {
  [REPLY_STATUS_ACTIVITY]: (input: ReplyStatusInput) => Promise<void>;
  [REPLY_ANSWER_ACTIVITY]: (input: ReplyAnswerInput) => Promise<void>;
  [REPLY_APPROVAL_ACTIVITY]: (input: ReplyApprovalInput) => Promise<void>;
  [REPLY_APPROVAL_ENDED_ACTIVITY]: (input: ReplyApprovalEndedInput) => Promise<void>;
}
