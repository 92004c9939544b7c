import { ApplicationFailure } from '@temporalio/activity';
import { REPLY_ANSWER_ACTIVITY, REPLY_APPROVAL_ACTIVITY, REPLY_STATUS_ACTIVITY, type ReplyChannel } from '../../core/conversation.ts';
import type { ApprovalRequest, ReplyAdapter, ReplyAdapters, TurnStatus } from '../replies/reply-channel.ts';

/**
 * The reply channel as activities: each call goes to the adapter of the channel's kind. A
 * kind with no adapter on this worker is a non-retryable failure the workflow logs.
 */
export function createReplyActivities(adapters: ReplyAdapters) {
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
    async [REPLY_STATUS_ACTIVITY]({ channel, key, status }: { channel: ReplyChannel; key: string; status: TurnStatus }): Promise<void> {
      await adapterFor(channel).status(channel, key, status);
    },
    async [REPLY_ANSWER_ACTIVITY]({ channel, key, text }: { channel: ReplyChannel; key: string; text: string }): Promise<void> {
      await adapterFor(channel).answer(channel, key, text);
    },
    async [REPLY_APPROVAL_ACTIVITY]({ channel, request }: { channel: ReplyChannel; request: ApprovalRequest }): Promise<void> {
      await adapterFor(channel).requestApproval(channel, request);
    },
  };
}
