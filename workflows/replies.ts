import { ActivityFailure, log, proxyActivities } from '@temporalio/workflow';
import { REPLY_ANSWER_ACTIVITY, REPLY_APPROVAL_ACTIVITY, type ReplyActivities } from '../core/contracts/replies.ts';

const replies = proxyActivities<ReplyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/**
 * Answers and approval requests outlast a Slack or SES outage of minutes (five attempts would
 * give up after about 15 s of 5xx, and the answer would never be posted). Statuses keep the
 * short policy; the next status (or the answer) covers a lost one.
 */
const lastingReplies = proxyActivities<ReplyActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * Posts through the reply channel. A reply that cannot be posted is logged, never fatal: the
 * turn goes on, and a person who saw nothing can ask again. `onFailure` hears why, for a
 * caller whose next step depends on it (an approval request nobody could be shown).
 */
export async function postReply<Name extends keyof ReplyActivities>(
  name: Name,
  input: Parameters<ReplyActivities[Name]>[0],
  logDetails: Record<string, unknown> = {},
  onFailure?: (failure: ActivityFailure) => void,
): Promise<void> {
  const lasting = name === REPLY_ANSWER_ACTIVITY || name === REPLY_APPROVAL_ACTIVITY;
  try {
    await ((lasting ? lastingReplies : replies)[name] as (input: Parameters<ReplyActivities[Name]>[0]) => Promise<void>)(input);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('Could not post a reply', { activity: name, ...logDetails, error: error.cause?.message ?? error.message });
    onFailure?.(error);
  }
}
