import type { ReplyAdapter } from './reply-channel.ts';

/** Replies for conversations nobody reads (scheduled runs, tests): every call succeeds and does nothing. */
export const noneReplyAdapter: ReplyAdapter = {
  async status() {},
  async answer() {},
  async requestApproval() {},
};
