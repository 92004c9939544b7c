import { ActivityFailure, log, proxyActivities } from '@temporalio/workflow';
import type { ReplyActivities } from '../core/contracts/replies.ts';

const replies = proxyActivities<ReplyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/**
 * Posts through the reply channel. A reply that cannot be posted is logged, never fatal: the
 * turn goes on, and a person who saw nothing can ask again.
 */
export async function postReply<Name extends keyof ReplyActivities>(
  name: Name,
  input: Parameters<ReplyActivities[Name]>[0],
  logDetails: Record<string, unknown> = {},
): Promise<void> {
  try {
    await (replies[name] as (input: Parameters<ReplyActivities[Name]>[0]) => Promise<void>)(input);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('Could not post a reply', { activity: name, ...logDetails, error: error.cause?.message ?? error.message });
  }
}
