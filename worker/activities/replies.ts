import { ApplicationFailure } from '@temporalio/activity';
import type { ReplyChannel } from '../../core/conversation.ts';
import { REPLY_ANSWER_ACTIVITY, REPLY_APPROVAL_ACTIVITY, REPLY_APPROVAL_ENDED_ACTIVITY, REPLY_STATUS_ACTIVITY, type ReplyActivities } from '../../core/contracts/replies.ts';
import type { ReplyAdapter, ReplyAdapters } from '../replies/reply-channel.ts';

/**
 * The reply channel as activities: each call goes to the adapter of the channel's kind. A
 * kind with no adapter on this worker is a non-retryable failure the workflow logs.
 */
export function createReplyActivities(adapters: ReplyAdapters): ReplyActivities {
  const adapterFor = (channel: ReplyChannel): ReplyAdapter => {
    const adapter = adapters[channel.kind];
    if (!adapter) {
      throw ApplicationFailure.nonRetryable(
        `This worker has no reply adapter for "${channel.kind}" channels (it has: ${Object.keys(adapters).join(', ') || 'none'}).`,
        'NoReplyAdapter',
      );
    }
    return adapter;
  };
  return {
    async [REPLY_STATUS_ACTIVITY]({ channel, key, status }) {
      await adapterFor(channel).status(channel, key, status);
    },
    async [REPLY_ANSWER_ACTIVITY]({ channel, key, text }) {
      await adapterFor(channel).answer(channel, key, text);
    },
    async [REPLY_APPROVAL_ACTIVITY]({ channel, request }) {
      await adapterFor(channel).requestApproval(channel, request);
    },
    async [REPLY_APPROVAL_ENDED_ACTIVITY]({ channel, request, ended }) {
      await adapterFor(channel).approvalEnded?.(channel, request, ended);
    },
  };
}
