import {
  ActivityFailure,
  allHandlersFinished,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  CURRENT_STEP_QUERY,
  MESSAGE_UPDATE,
  STOP_UPDATE,
  TURN_PROGRESS_SIGNAL,
  TURNS_QUERY,
  type ConversationOptions,
  type ConversationStart,
  type CurrentStep,
  type IncomingMessage,
  type MessageAccepted,
  type StopRequest,
  type StopResult,
  type TurnProgress,
  type TurnSummary,
} from '../core/conversation.ts';
import { summarise } from '../core/run-events.ts';
import type { AgentActivities } from '../core/contracts/agents.ts';
import {
  LOAD_CONVERSATION_ACTIVITY,
  SAVE_CONVERSATION_ACTIVITY,
  type ConversationStoreActivities,
  type LoadConversationResult,
} from '../core/contracts/conversations.ts';
import { REPLY_ANSWER_ACTIVITY, REPLY_STATUS_ACTIVITY, type ReplyActivities } from '../core/contracts/replies.ts';
import type { TranscriptActivities } from '../core/contracts/transcript.ts';
import type { MessageRef } from '../core/spec.ts';
import type { TurnStatus } from '../core/replies.ts';
import { agentRun, type AgentRunResult } from './agent-run.ts';
import { openApprovalBook } from './conversation-approvals.ts';
import { RecentMessageIds, type QueuedMessage } from './conversation-state.ts';

export const messageUpdate = defineUpdate<MessageAccepted, [IncomingMessage]>(MESSAGE_UPDATE);
export const stopUpdate = defineUpdate<StopResult, [StopRequest?]>(STOP_UPDATE);
export const turnsQuery = defineQuery<TurnSummary[]>(TURNS_QUERY);
export const currentStepQuery = defineQuery<CurrentStep>(CURRENT_STEP_QUERY);
export const turnProgressSignal = defineSignal<[TurnProgress]>(TURN_PROGRESS_SIGNAL);

/** Messages that may wait for the next turn; more are refused by the update's validator. */
export const MAX_QUEUED_MESSAGES = 50;
/** Message ids remembered for dedupe, carried across continue-as-new (and saved between runs). */
export const MAX_REMEMBERED_MESSAGE_IDS = 256;
/** Turn summaries kept for the `turns` query. */
export const MAX_TURNS_KEPT = 50;
const ANSWER_EXCERPT = 300;

/** Identifies a shown status; step 0 (before the run's first model call) shows as step 1. */
function statusKey(progress: { state: string; step: number; tools?: string[] }): string {
  return `${progress.state}:${Math.max(1, progress.step)}:${progress.tools?.join(',') ?? ''}`;
}

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
}

export interface ConversationResult {
  transcriptHead?: MessageRef;
  turns: number;
  closedBy: 'idle';
  continuedCount: number;
}

const activities = proxyActivities<ConversationStoreActivities & AgentActivities & TranscriptActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
// Without what an earlier run saved, a conversation would answer with amnesia: retry until the store answers.
const { [LOAD_CONVERSATION_ACTIVITY]: loadConversation } = proxyActivities<Pick<ConversationStoreActivities, typeof LOAD_CONVERSATION_ACTIVITY>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const replies = proxyActivities<ReplyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

interface RunningTurn {
  turn: number;
  scope: CancellationScope;
  runWorkflowId: string;
  /** Who may approve this turn's calls. */
  approvers: string[];
  progress: Omit<TurnProgress, 'runWorkflowId'>;
  /** A tool step not yet shown on the reply channel: shown even if the run has moved on. */
  unshownTool?: Omit<TurnProgress, 'runWorkflowId'>;
  stop?: StopRequest;
}

/**
 * One conversation (a Slack thread, an email thread, a terminal session): messages arrive as
 * updates, deduplicated by id, and queue; turns run one at a time, each as a child `agentRun`
 * that continues the conversation's transcript. Approvals are decided here (the validator
 * checks who may), and forwarded to the run that waits. Continues as new between turns when
 * history grows; completes after `idleTimeout` without a message, and the next message's
 * update-with-start opens a new run that finds the transcript through `conversation:load`.
 */
export async function conversation(input: ConversationInput): Promise<ConversationResult> {
  const workflowId = workflowInfo().workflowId;
  const carried = input.carried;
  let ready = carried !== undefined;
  let head = carried?.transcriptHead;
  let turns = carried?.turns ?? 0;
  let defaults = carried?.defaults;
  const queue: QueuedMessage[] = carried?.queue ?? [];
  const recent = new RecentMessageIds(carried?.recentMessageIds ?? [], MAX_REMEMBERED_MESSAGE_IDS);
  const summaries: TurnSummary[] = carried?.turnSummaries ?? [];
  let running: RunningTurn | undefined;
  const approvals = openApprovalBook(() => running, carried?.decidedRequests ?? []);

  const summaryOf = (turn: number): TurnSummary => {
    let summary = summaries.find((candidate) => candidate.turn === turn);
    if (!summary) {
      summary = { turn, messageIds: [], status: 'queued' };
      summaries.push(summary);
      if (summaries.length > MAX_TURNS_KEPT) summaries.shift();
    }
    return summary;
  };

  setHandler(
    messageUpdate,
    async (message) => {
      await condition(() => ready);
      const known = recent.turnOf(message.id);
      if (known !== undefined) return { duplicate: true, turn: known };
      const turn = turns + 1;
      queue.push({ message, turn });
      recent.add(message.id, turn);
      summaryOf(turn).messageIds.push(message.id);
      return { duplicate: false, turn };
    },
    {
      validator: (message) => {
        if (typeof message?.id !== 'string' || message.id === '') throw new Error('A message needs an id: the source event id.');
        if (typeof message.text !== 'string') throw new Error(`Message ${message.id} has no text.`);
        if (typeof message.user?.id !== 'string' || message.user.id === '') throw new Error(`Message ${message.id} names no user.`);
        if (queue.length >= MAX_QUEUED_MESSAGES && recent.turnOf(message.id) === undefined) {
          throw new Error(`${MAX_QUEUED_MESSAGES} messages are already waiting in this conversation; send this one after the current turn.`);
        }
      },
    },
  );

  setHandler(stopUpdate, (request) => {
    if (!running) return { stopped: false };
    if (!running.stop) {
      running.stop = request ?? {};
      running.scope.cancel();
    }
    return { stopped: true, turn: running.turn };
  });

  setHandler(turnProgressSignal, ({ runWorkflowId, ...progress }) => {
    if (running?.runWorkflowId !== runWorkflowId) return;
    running.progress = progress;
    if (progress.state === 'tool') running.unshownTool = progress;
  });

  setHandler(turnsQuery, () => summaries);
  setHandler(currentStepQuery, (): CurrentStep => {
    if (!running) return { state: 'idle', turn: turns, queued: queue.length };
    return {
      state: approvals.waitingIn(running.turn) ? 'waiting_for_approval' : running.progress.state,
      turn: running.turn,
      step: running.progress.step,
      ...(running.progress.tools ? { tools: running.progress.tools } : {}),
      runWorkflowId: running.runWorkflowId,
      queued: queue.length,
    };
  });

  if (!defaults) {
    const loaded = await loadConversation({ conversationId: workflowId });
    defaults = loaded.defaults;
    if (loaded.saved) {
      head = loaded.saved.transcriptHead;
      turns = loaded.saved.turns;
      for (const [id, turn] of loaded.saved.recentMessageIds) recent.add(id, turn);
    }
    ready = true;
  }
  const settings = { ...defaults, ...input.options };

  async function runTurn(): Promise<void> {
    const batch = queue.splice(0, queue.length);
    turns += 1;
    const turn = turns;
    const last = batch.at(-1)!.message;
    const channel = last.channel ?? input.channel;
    const key = `${workflowId}#${turn}`;
    const runWorkflowId = `${workflowId}/turn-${turn}`;
    const requesters = [...new Set(batch.flatMap(({ message }) => [message.user.id, ...(message.user.email ? [message.user.email] : [])]))];
    const approvers = input.approvers?.length ? input.approvers : requesters;
    const summary = Object.assign(summaryOf(turn), { status: 'running', runWorkflowId, startedAt: new Date().toISOString() } as const);
    const scope = new CancellationScope();
    running = { turn, scope, runWorkflowId, approvers, progress: { step: 0, state: 'thinking' } };
    const prompt = batch.length === 1 ? last.text : batch.map(({ message }) => `${message.user.name ?? message.user.id}: ${message.text}`).join('\n\n');
    const thinking = reply(REPLY_STATUS_ACTIVITY, { channel, key, status: { state: 'thinking', step: 1 } });
    // Mirrors the run's progress (which step, which tool) on the reply channel, one post at a
    // time and only the newest state; the adapter throttles further. Quiet while an approval
    // waits: the run posts that status itself.
    let turnOver = false;
    const mirror = (async () => {
      await thinking;
      let shown = statusKey({ state: 'thinking', step: 1 });
      for (;;) {
        await condition(
          () => turnOver || (running !== undefined && !approvals.waitingIn(turn) && (running.unshownTool !== undefined || statusKey(running.progress) !== shown)),
        );
        if (turnOver || !running) return;
        const progress = running.unshownTool ?? running.progress;
        running.unshownTool = undefined;
        shown = statusKey(progress);
        const status: TurnStatus =
          progress.state === 'tool' && progress.tools?.length
            ? { state: 'tool', step: progress.step, tool: progress.tools.join(', ') }
            : { state: 'thinking', step: Math.max(1, progress.step) };
        await reply(REPLY_STATUS_ACTIVITY, { channel, key, status });
      }
    })();

    let result: AgentRunResult | undefined;
    let failure: string | undefined;
    try {
      result = await scope.run(async () => {
        // The run posts statuses of its own (waiting for approval): "thinking" lands first.
        const [spec] = await Promise.all([activities.resolveAgent({ name: input.agent }), thinking]);
        return executeChild(agentRun, {
          workflowId: runWorkflowId,
          args: [
            {
              spec,
              prompt,
              ...(head ? { transcriptHead: head } : {}),
              ...(settings.modelTaskQueue ? { modelTaskQueue: settings.modelTaskQueue } : {}),
              conversation: { workflowId, channel, approvers, approvalTimeout: settings.approvalTimeout, reportProgress: true, replyKey: key },
            },
          ],
          // A stop waits until the run (and its tool activities) have acknowledged, so history shows them cancelled.
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        });
      });
    } catch (error) {
      if (CancellationScope.current().consideredCancelled) throw error;
      if (!(running.stop && isCancellation(error))) failure = describe(error);
    }
    const stop = running.stop;
    running = undefined;
    approvals.closeTurn(turn);
    turnOver = true;
    await mirror;

    if (result) {
      head = result.transcriptHead;
      Object.assign(summary, { status: 'answered', answerExcerpt: summarise(result.answer, ANSWER_EXCERPT), stopReason: result.stopReason, finishedAt: new Date().toISOString() });
      await Promise.all([reply(REPLY_ANSWER_ACTIVITY, { channel, key, text: result.answer }), reply(REPLY_STATUS_ACTIVITY, { channel, key, status: { state: 'done' } })]);
    } else {
      // The run's own messages are dropped whole; the transcript records the question and why it has no answer.
      const note = failure === undefined ? `(Stopped${stop?.by ? ` by ${stop.by}` : ''} before answering.)` : `(This turn failed: ${failure})`;
      head = (await activities.appendToTranscript({ ...(head ? { head } : {}), messages: [{ role: 'user', parts: [{ text: prompt }] }, { role: 'model', parts: [{ text: note }] }] })).head;
      Object.assign(summary, { status: failure === undefined ? 'stopped' : 'failed', answerExcerpt: summarise(note, ANSWER_EXCERPT), finishedAt: new Date().toISOString() });
      await (failure === undefined
        ? reply(REPLY_STATUS_ACTIVITY, { channel, key, status: { state: 'stopped' } })
        : reply(REPLY_ANSWER_ACTIVITY, { channel, key, text: `Sorry, I could not finish: ${failure}` }));
    }
    try {
      await activities[SAVE_CONVERSATION_ACTIVITY]({ conversationId: workflowId, ...(head ? { transcriptHead: head } : {}), turns, messageIds: batch.map(({ message }) => [message.id, turn]) });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      log.warn('Could not save the conversation; after an idle close it would start afresh', { error: error.cause?.message ?? error.message });
    }
  }

  const idleTimeout = settings.idleTimeout;
  for (;;) {
    if (queue.length === 0 && !(await condition(() => queue.length > 0, idleTimeout))) {
      await condition(allHandlersFinished);
      if (queue.length === 0) return { ...(head ? { transcriptHead: head } : {}), turns, closedBy: 'idle', continuedCount: carried?.continuedCount ?? 0 };
      continue;
    }
    await runTurn();
    if (shouldContinueAsNew(settings)) {
      await condition(allHandlersFinished);
      const { carried: _previous, ...start } = input;
      await continueAsNew<typeof conversation>({
        ...start,
        carried: {
          ...(head ? { transcriptHead: head } : {}),
          turns,
          queue,
          recentMessageIds: recent.entries(),
          turnSummaries: summaries,
          decidedRequests: approvals.decidedIds(),
          defaults,
          continuedCount: (carried?.continuedCount ?? 0) + 1,
        },
      });
    }
  }
}

/** Posts through the reply channel; a reply that cannot be posted is logged, never fatal to the conversation. */
async function reply<Name extends typeof REPLY_STATUS_ACTIVITY | typeof REPLY_ANSWER_ACTIVITY>(name: Name, input: Parameters<ReplyActivities[Name]>[0]): Promise<void> {
  try {
    await (replies[name] as (input: Parameters<ReplyActivities[Name]>[0]) => Promise<void>)(input);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('Could not post a reply', { activity: name, error: error.cause?.message ?? error.message });
  }
}

function shouldContinueAsNew(options: ConversationOptions): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= (options.maxHistoryEvents ?? 10_000) || info.historySize >= (options.maxHistoryBytes ?? 20 * 1024 * 1024);
}

function describe(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  // The innermost cause says what went wrong; the wrappers say where.
  while (current?.cause && typeof current.cause === 'object') current = current.cause as typeof current;
  return current?.message ?? String(error);
}
