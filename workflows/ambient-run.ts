import { ActivityFailure, ChildWorkflowFailure, executeChild, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import {
  ambientDeliveryKey,
  ambientPrompt,
  isNothingNew,
  MAX_AMBIENT_SUMMARY_CHARS,
  type AmbientOutcome,
  type AmbientRunInput,
  type AmbientRunResult,
} from '../core/ambient.ts';
import {
  AMBIENT_BEGIN_ACTIVITY,
  AMBIENT_CHECK_ACTIVITY,
  AMBIENT_DELIVER_ACTIVITY,
  AMBIENT_REMEMBER_ACTIVITY,
  type AmbientActivities,
  type AmbientDelivered,
} from '../core/contracts/ambient.ts';
import type { AgentActivities } from '../core/contracts/agents.ts';
import { SAVE_CONVERSATION_ACTIVITY, type ConversationStoreActivities } from '../core/contracts/conversations.ts';
import { summarise } from '../core/run-events.ts';
import { agentRun, type AgentRunResult } from './agent-run.ts';
import { openApprovalBook, type AskingTurn } from './conversation-approvals.ts';

/** Activities of conversations an ambient run uses too. */
type SharedActivities = AgentActivities & Pick<ConversationStoreActivities, typeof SAVE_CONVERSATION_ACTIVITY>;

const ambient = proxyActivities<AmbientActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
// A check reads the world (a folder, an API): a few tries, then the run fails and the next one tries again.
const { [AMBIENT_CHECK_ACTIVITY]: check } = proxyActivities<Pick<AmbientActivities, typeof AMBIENT_CHECK_ACTIVITY>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 3 },
});
// Delivery beats every 2 s: a worker that dies while Slack answers is noticed in 10 s, and the retry finds the post by its mark.
const { [AMBIENT_DELIVER_ACTIVITY]: deliver } = proxyActivities<Pick<AmbientActivities, typeof AMBIENT_DELIVER_ACTIVITY>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
const shared = proxyActivities<SharedActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** The one "turn" of an ambient run, as the approval book sees it. */
const AMBIENT_TURN = 1;

/**
 * One firing of a trigger, with nobody asking. Reads what the trigger's last run left (its
 * memory document, and the cursor of the schedule's last completion result), lets the
 * agent's check end the run quietly before any model call, else runs the agent as a child
 * `agentRun` (same loop, same budgets) whose answer `NOTHING_NEW` is quiet too. Anything else
 * is posted as a new Slack thread or email, whose replies continue as a conversation over
 * this run's transcript. Approvals of the child run are decided here, by the trigger's approvers;
 * a chat-made schedule's owner is the run's requester, as if they had asked for each call.
 */
export async function ambientRun(input: AmbientRunInput): Promise<AmbientRunResult> {
  const { agent, trigger } = input;
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const previous = info.lastResult as AmbientRunResult | undefined;
  const runAt = new Date().toISOString();

  const [spec, begun] = await Promise.all([
    shared.resolveAgent({ name: agent }),
    ambient[AMBIENT_BEGIN_ACTIVITY]({ agent, trigger, workflowId }),
  ]);
  const memory = begun.memory;
  const cursor = previous?.cursor ?? memory?.cursor;

  let asking: AskingTurn | undefined;
  const approvals = openApprovalBook(() => asking, []);

  let result: AmbientRunResult;
  let reason: string | undefined;
  let emailThreadRoot: string | undefined;
  try {
    const verdict = await check({ agent, trigger, ...(memory ? { memory } : {}), ...(cursor !== undefined ? { cursor } : {}) });
    if (verdict.quiet) {
      reason = `check: ${verdict.reason}`;
      result = quiet(reason, cursor);
    } else {
      // A chat-made schedule's owner is the requester of its runs, so `notRequester` applies to
      // them: asking for a schedule is no way round a policy that forbids approving one's own call.
      const owner = input.origin === 'chat' ? input.owner : undefined;
      const requesters = owner ? [owner] : [];
      asking = { turn: AMBIENT_TURN, approvers: trigger.approvers, configured: trigger.approvers, requesters, spec };
      let run: AgentRunResult;
      try {
        run = await executeChild(agentRun, {
          workflowId: `${workflowId}/run`,
          args: [
            {
              spec,
              prompt: ambientPrompt({
                agent,
                trigger,
                now: runAt,
                ...(memory ? { memory } : {}),
                ...(verdict.context ? { checkContext: verdict.context } : {}),
              }),
              conversation: {
                workflowId,
                channel: begun.approvalChannel,
                approvers: trigger.approvers,
                // The request shows who the tool's policy lets decide: the approval book above decides by the same scope.
                scope: { configured: trigger.approvers, requesters },
              },
            },
          ],
        });
      } finally {
        asking = undefined;
        approvals.closeTurn(AMBIENT_TURN);
      }
      // A run that reached a budget posts what it says, but hands on the old cursor: the next run looks again.
      const nextCursor = run.stopReason === 'answer' ? (verdict.cursor ?? cursor) : cursor;
      if (isNothingNew(run.answer)) {
        reason = 'the model found nothing new';
        result = quiet(reason, nextCursor);
      } else {
        const delivered = await deliver({
          agent,
          trigger,
          key: ambientDeliveryKey(workflowId),
          text: run.answer,
          ...(run.answerRef ? { textRef: run.answerRef } : {}),
          ...(memory?.emailThreadRoot ? { emailThreadRoot: memory.emailThreadRoot } : {}),
        });
        if (delivered.kind === 'email') emailThreadRoot = delivered.threadRoot;
        // A reply to the post opens an ordinary conversation that starts from this run's transcript.
        await shared[SAVE_CONVERSATION_ACTIVITY]({
          conversationId: delivered.conversationId,
          transcriptHead: run.transcriptHead,
          turns: 0,
          messageIds: [],
        });
        result = {
          outcome: 'posted',
          ...(nextCursor !== undefined ? { cursor: nextCursor } : {}),
          posted: postedAt(delivered),
          summary: summarise(run.answer, MAX_AMBIENT_SUMMARY_CHARS),
        };
      }
    }
  } catch (error) {
    if (!(error instanceof ActivityFailure || error instanceof ChildWorkflowFailure)) throw error;
    reason = describe(error);
    log.warn('Ambient run failed', { agent, trigger: trigger.id, error: reason });
    // The old cursor goes on: what this run could not report, the next one finds again.
    result = {
      outcome: 'failed',
      ...(cursor !== undefined ? { cursor } : {}),
      summary: summarise(`The run failed: ${reason}`, MAX_AMBIENT_SUMMARY_CHARS),
    };
  }

  await ambient[AMBIENT_REMEMBER_ACTIVITY]({
    agent,
    trigger: trigger.id,
    workflowId,
    runAt,
    outcome: result.outcome satisfies AmbientOutcome,
    ...(reason !== undefined ? { reason } : {}),
    ...(result.outcome === 'posted' && result.summary !== undefined ? { summary: result.summary } : {}),
    ...(result.cursor !== undefined ? { cursor: result.cursor } : {}),
    ...(emailThreadRoot ? { emailThreadRoot } : {}),
  });
  return result;
}

function quiet(reason: string, cursor: string | undefined): AmbientRunResult {
  return { outcome: 'quiet', ...(cursor !== undefined ? { cursor } : {}), summary: summarise(reason, MAX_AMBIENT_SUMMARY_CHARS) };
}

function postedAt(delivered: AmbientDelivered): NonNullable<AmbientRunResult['posted']> {
  return delivered.kind === 'slack'
    ? { kind: 'slack', channel: delivered.channelId, ts: delivered.ts }
    : { kind: 'email', messageId: delivered.messageId };
}

function describe(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  // The innermost cause says what went wrong; the wrappers say where.
  while (current?.cause && typeof current.cause === 'object') current = current.cause as typeof current;
  return current?.message ?? String(error);
}
