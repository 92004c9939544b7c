import {
  allHandlersFinished,
  condition,
  defineQuery,
  makeContinueAsNewFunc,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  CURRENT_STEP_QUERY,
  type ConversationContext,
  type ConversationStart,
  type CurrentStep,
  type TurnSummary,
} from '../core/conversation.ts';
import { REPLY_STATUS_ACTIVITY } from '../core/contracts/replies.ts';
import {
  LOAD_CONVERSATION_ACTIVITY,
  type ConversationStoreActivities,
  type LoadConversationResult,
} from '../core/contracts/conversations.ts';
import type { MessageRef } from '../core/spec.ts';
import { openApprovalBook } from './conversation-approvals.ts';
import { acceptContext } from './conversation-context.ts';
import { acceptFeedback } from './conversation-feedback.ts';
import { openIntake, type QueuedMessage } from './conversation-intake.ts';
import type { ConversationState } from './conversation-state.ts';
import { acceptTurnControls, runTurn } from './conversation-turn.ts';
import { shouldContinueAsNew, targetVersionChanged } from './continue-as-new.ts';
import { followVersion } from './conversation-version.ts';
import { postReply } from './replies.ts';

export { messageUpdate, turnsQuery } from './conversation-intake.ts';
export { stopUpdate, turnProgressSignal } from './conversation-turn.ts';
export { feedbackUpdate } from './conversation-feedback.ts';
export { contextUpdate } from './conversation-context.ts';

export const currentStepQuery = defineQuery<CurrentStep>(CURRENT_STEP_QUERY);

export interface ConversationInput extends ConversationStart {
  /** Set by the conversation itself when it continues as new; callers leave it out. */
  carried?: CarriedConversation;
}

/** What a conversation carries across continue-as-new: refs, ids and counters, never messages' history. */
export interface CarriedConversation {
  transcriptHead?: MessageRef;
  turns: number;
  queue: QueuedMessage[];
  recentMessageIds: [id: string, turn: number][];
  turnSummaries: TurnSummary[];
  decidedRequests: string[];
  defaults: LoadConversationResult['defaults'];
  continuedCount: number;
  /** Context not yet told to the model. */
  context?: ConversationContext;
}

export interface ConversationResult {
  transcriptHead?: MessageRef;
  turns: number;
  closedBy: 'idle';
  continuedCount: number;
}

// Without what an earlier run saved, a conversation would answer with amnesia: retry until the store answers.
const { [LOAD_CONVERSATION_ACTIVITY]: loadConversation } = proxyActivities<
  Pick<ConversationStoreActivities, typeof LOAD_CONVERSATION_ACTIVITY>
>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * One conversation (a Slack thread, an email thread, a terminal session): messages arrive as
 * updates, deduplicated by id, and queue (`conversation-intake.ts`); turns run one at a time,
 * each as a child `agentRun` that continues the conversation's transcript
 * (`conversation-turn.ts`), its progress mirrored on the reply channel
 * (`conversation-status.ts`). Approvals are decided here (the validator checks who may), and
 * forwarded to the run that waits. Continues as new between turns when history grows, or
 * when a deploy has made another worker version the target: under worker versioning a run is
 * pinned to its version (no deploy replays it on other code), and the next run starts on the
 * deployment's target version (`initialVersioningBehavior: 'AUTO_UPGRADE'`, or, on servers that
 * ignore it, a versioning override the run asks for as it starts: `conversation-version.ts`);
 * completes after `idleTimeout` without a message, and the next message's update-with-start
 * opens a new run that finds the transcript through `conversation:load`.
 */
export async function conversation(input: ConversationInput): Promise<ConversationResult> {
  const carried = input.carried;
  const state: ConversationState = {
    workflowId: workflowInfo().workflowId,
    ready: carried !== undefined,
    ...(carried?.transcriptHead ? { transcriptHead: carried.transcriptHead } : {}),
    turns: carried?.turns ?? 0,
    ...(carried?.context ? { context: carried.context } : {}),
  };
  let defaults = carried?.defaults;
  const approvals = openApprovalBook(() => state.running, carried?.decidedRequests ?? []);
  const intake = openIntake(state, carried);
  acceptTurnControls(state);
  acceptFeedback(state, intake);
  acceptContext(state);
  setHandler(currentStepQuery, (): CurrentStep => {
    const { running } = state;
    if (!running) return { state: 'idle', turn: state.turns, queued: intake.queue.length };
    return {
      state: approvals.waitingIn(running.turn) ? 'waiting_for_approval' : running.progress.state,
      turn: running.turn,
      step: running.progress.step,
      ...(running.progress.tools ? { tools: running.progress.tools } : {}),
      runWorkflowId: running.runWorkflowId,
      queued: intake.queue.length,
    };
  });

  // Versioned runs only: a run continued as new that the server left on the old version moves now.
  const version = followVersion(carried !== undefined);
  await version.settle();

  if (!defaults) {
    const loaded = await loadConversation({ conversationId: state.workflowId });
    defaults = loaded.defaults;
    if (loaded.saved) {
      state.transcriptHead = loaded.saved.transcriptHead;
      state.turns = loaded.saved.turns;
      intake.remember(loaded.saved.recentMessageIds);
    }
    state.ready = true;
  }
  const settings = { ...defaults, ...input.options };

  for (;;) {
    if (intake.queue.length === 0 && !(await condition(() => intake.queue.length > 0, settings.idleTimeout))) {
      await condition(allHandlersFinished);
      // The thread's Slack agent session ends with the conversation; a message meanwhile opens it again.
      if (intake.queue.length === 0 && state.turns > 0 && input.channel.kind === 'slack') {
        await postReply(REPLY_STATUS_ACTIVITY, { channel: input.channel, key: `${state.workflowId}#closed`, status: { state: 'closed' } });
        await condition(allHandlersFinished);
      }
      if (intake.queue.length === 0) {
        const head = state.transcriptHead;
        return {
          ...(head ? { transcriptHead: head } : {}),
          turns: state.turns,
          closedBy: 'idle',
          continuedCount: carried?.continuedCount ?? 0,
        };
      }
      continue;
    }
    // After a deploy the queued turn runs on the new build: continue as new first, carrying it.
    // The server's flag where it reports one (Temporal 1.30+), else the deployment's own word.
    const moving = targetVersionChanged() || (await version.behind());
    if (!moving) await runTurn({ state, intake, approvals, start: input, settings });
    if (moving || targetVersionChanged() || shouldContinueAsNew(settings)) {
      await condition(allHandlersFinished);
      const { carried: _previous, ...start } = input;
      const head = state.transcriptHead;
      await makeContinueAsNewFunc<typeof conversation>({ initialVersioningBehavior: 'AUTO_UPGRADE' })({
        ...start,
        carried: {
          ...(head ? { transcriptHead: head } : {}),
          turns: state.turns,
          queue: intake.queue,
          recentMessageIds: intake.recentMessageIds(),
          turnSummaries: intake.summaries,
          decidedRequests: approvals.decidedIds(),
          defaults,
          continuedCount: (carried?.continuedCount ?? 0) + 1,
          ...(state.context ? { context: state.context } : {}),
        },
      });
    }
  }
}
