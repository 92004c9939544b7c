import { ApplicationFailure } from '@temporalio/activity';
import type { ReplyChannel } from '../../core/conversation.ts';
import {
  REPLY_ANSWER_ACTIVITY,
  REPLY_APPROVAL_ACTIVITY,
  REPLY_APPROVAL_ENDED_ACTIVITY,
  REPLY_STATUS_ACTIVITY,
  type ReplyActivities,
} from '../../core/contracts/replies.ts';
import { argumentsUnreadable, shownArguments } from '../replies/approval-arguments.ts';
import type { ApprovalRequest, ReplyAdapter, ReplyAdapters } from '../replies/reply-channel.ts';

/**
 * The reply channel as activities: each call goes to the adapter of the channel's kind. A
 * kind with no adapter on this worker is a non-retryable failure the workflow logs.
 */
export interface ReplyActivityOptions {
  /** Reads a call's arguments stored by reference, so a request shows them whole. @default none: such a request is refused */
  loadArguments?: (ref: string) => Promise<unknown>;
}

export function createReplyActivities(adapters: ReplyAdapters, options: ReplyActivityOptions = {}): ReplyActivities {
  /** The request with its real arguments: a person never sees (or approves) a storage reference. */
  const withArguments = async (request: ApprovalRequest): Promise<ApprovalRequest> => {
    if (request.argsRef === undefined) {
      // Every channel refuses what it cannot show whole, whatever its adapter renders.
      shownArguments(request.tool, request.args);
      return request;
    }
    if (!options.loadArguments) throw argumentsUnreadable(request.tool, 'this worker has no transcript store to read them from');
    let args: unknown;
    try {
      args = await options.loadArguments(request.argsRef);
    } catch (error) {
      // A missing or corrupt message never appears by retrying; anything else (a network fault) may.
      const name = (error as Error).name;
      if (name === 'MessageNotFound' || name === 'MessageCorrupt') throw argumentsUnreadable(request.tool, (error as Error).message);
      throw error;
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) throw argumentsUnreadable(request.tool, 'they are not an object');
    shownArguments(request.tool, args as Record<string, unknown>);
    const { argsRef: _shown, ...rest } = request;
    return { ...rest, args: args as Record<string, unknown> };
  };
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
      await adapterFor(channel).requestApproval(channel, await withArguments(request));
    },
    async [REPLY_APPROVAL_ENDED_ACTIVITY]({ channel, request, ended }) {
      await adapterFor(channel).approvalEnded?.(channel, await withArguments(request), ended);
    },
  };
}
