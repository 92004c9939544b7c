import {
  ActivityFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  defineSignal,
  defineUpdate,
  executeChild,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import {
  STOP_UPDATE,
  TURN_PROGRESS_SIGNAL,
  type ConversationOptions,
  type ConversationStart,
  type StopRequest,
  type StopResult,
  type TurnProgress,
} from '../core/conversation.ts';
import { isAmong, namedApprovers } from '../core/approval-policy.ts';
import type { AgentActivities } from '../core/contracts/agents.ts';
import { SAVE_CONVERSATION_ACTIVITY, type ConversationStoreActivities } from '../core/contracts/conversations.ts';
import { REPLY_ANSWER_ACTIVITY, REPLY_APPROVAL_ENDED_ACTIVITY, REPLY_STATUS_ACTIVITY } from '../core/contracts/replies.ts';
import type { TranscriptActivities } from '../core/contracts/transcript.ts';
import { AGENT_RUN_TASK_TIMEOUT, summarise } from '../core/run-events.ts';
import type { Duration } from '../core/spec.ts';
import { agentRun, type AgentRunResult } from './agent-run.ts';
import type { ApprovalBook } from './conversation-approvals.ts';
import type { Intake } from './conversation-intake.ts';
import type { ConversationState, RunningTurn } from './conversation-state.ts';
import { contextLine } from './conversation-context.ts';
import { mirrorStatus } from './conversation-status.ts';
import { postReply } from './replies.ts';
import { showTurn, turnSearchAttributes } from './search-attributes.ts';
import { withinTraceContext } from './trace-context.ts';

export const stopUpdate = defineUpdate<StopResult, [StopRequest?]>(STOP_UPDATE);
export const turnProgressSignal = defineSignal<[TurnProgress]>(TURN_PROGRESS_SIGNAL);

const ANSWER_EXCERPT = 300;
/** Slack's session titles take at most 200 characters. */
const SESSION_TITLE_CHARS = 200;

const activities = proxyActivities<
  Pick<ConversationStoreActivities, typeof SAVE_CONVERSATION_ACTIVITY> & AgentActivities & TranscriptActivities
>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/**
 * Accepts `stop` (cancels the running turn) and the running turn's progress reports. Only the
 * turn's requesters and approvers may stop it: the validator refuses anyone else, so a
 * stranger's stop leaves no event in history.
 */
export function acceptTurnControls(state: ConversationState): void {
  setHandler(
    stopUpdate,
    async (request?: StopRequest): Promise<StopResult> => {
      if (!state.running) return { stopped: false };
      const refusal = request?.answerRefusal ? stopRefusal(state.running, request) : undefined;
      if (refusal !== undefined) {
        const { running } = state;
        // The click reached nobody else: the person is told in the thread, and the turn goes on.
        if (running.channel) {
          await postReply(REPLY_ANSWER_ACTIVITY, {
            channel: running.channel,
            key: `${state.workflowId}#${running.turn}/stop-refused/${request?.by ?? ''}`,
            text: STOP_REFUSED_TEXT,
          });
        }
        return { stopped: false, turn: running.turn, refused: refusal };
      }
      if (!state.running.stop) {
        state.running.stop = request ?? {};
        state.running.scope.cancel();
      }
      return { stopped: true, turn: state.running.turn };
    },
    {
      validator: (request?: StopRequest) => {
        const running = state.running;
        if (!running) return;
        // A click on Slack's stop button is accepted either way: a refusal is answered in the thread.
        if (request?.answerRefusal === true && typeof request.by === 'string' && request.by.trim() !== '') return;
        const refusal = stopRefusal(running, request);
        if (refusal !== undefined) throw new Error(refusal);
      },
    },
  );

  setHandler(turnProgressSignal, ({ runWorkflowId, ...progress }) => {
    const running = state.running;
    if (running?.runWorkflowId !== runWorkflowId) return;
    running.progress = progress;
    if (progress.state === 'tool') running.unshownTool = progress;
  });
}

/** What a person whose stop click is refused reads in the thread. */
const STOP_REFUSED_TEXT = 'Only the people who asked and the approvers of this turn may stop it, so it goes on.';

/** Why `request` may not stop the running turn, or undefined when it may: the same check for a typed "stop" and Slack's button. */
function stopRefusal(running: RunningTurn, request: StopRequest | undefined): string | undefined {
  const by = typeof request?.by === 'string' ? request.by : '';
  if (by.trim() === '') return `Turn ${running.turn} is running; a stop names who asks ("by"), one of the people who asked or may approve.`;
  const allowed = [...running.requesters, ...running.approvers, ...running.configured, ...namedApprovers(running.spec)];
  if (!isAmong(by, allowed)) return `${by} may not stop turn ${running.turn}: only the people who asked and its approvers may.`;
  return undefined;
}

export interface TurnContext {
  state: ConversationState;
  intake: Intake;
  approvals: ApprovalBook;
  start: ConversationStart;
  /** The conversation's options over the worker's defaults. */
  settings: Pick<ConversationOptions, 'modelTaskQueue'> & { approvalTimeout: Duration };
}

/**
 * One turn: every waiting message, answered by a child `agentRun` that continues the
 * conversation's transcript. The answer (or why there is none) is posted and recorded in the
 * transcript, and the conversation is saved, so a later run finds it after an idle close.
 *
 * The turn runs in the trace of its first message (the context its update ran in), not in the
 * trace of the message that started this run: the run, its activities and the reply are that
 * message's spans.
 */
export function runTurn(turn: TurnContext): Promise<void> {
  const first = turn.intake.queue[0];
  return withinTraceContext(first && turn.intake.traceContextOf(first), () => answerQueued(turn));
}

async function answerQueued({ state, intake, approvals, start, settings }: TurnContext): Promise<void> {
  const { workflowId } = state;
  const batch = intake.queue.splice(0, intake.queue.length);
  state.turns += 1;
  const turn = state.turns;
  const last = batch.at(-1)!.message;
  const origin = last.channel ?? start.channel;
  // Outside a DM, Slack streams an answer only to a named person: the one who asked this turn.
  const channel = origin.kind === 'slack' ? { ...origin, recipientUserId: last.user.id } : origin;
  const key = `${workflowId}#${turn}`;
  const runWorkflowId = `${workflowId}/turn-${turn}`;
  const requesters = [...new Set(batch.flatMap(({ message }) => [message.user.id, ...(message.user.email ? [message.user.email] : [])]))];
  const configured = start.approvers ?? [];
  const approvers = configured.length ? configured : requesters;
  const authors = [...new Set(batch.map(({ message }) => message.user.id))];
  const summary = Object.assign(intake.summaryOf(turn), { status: 'running', runWorkflowId, startedAt: new Date().toISOString() } as const);
  const scope = new CancellationScope();
  const running: RunningTurn = {
    turn,
    scope,
    runWorkflowId,
    approvers,
    configured,
    requesters,
    progress: { step: 0, state: 'thinking' },
    channel,
  };
  state.running = running;
  const asked =
    batch.length === 1 ? last.text : batch.map(({ message }) => `${message.user.name ?? message.user.id}: ${message.text}`).join('\n\n');
  // A context change since the last turn is told once, ahead of the question.
  const prompt = state.context ? `${contextLine(state.context)}\n\n${asked}` : asked;
  state.context = undefined;
  // A Slack agent session takes its title from what the thread asked first (Slack ignores it once the session exists).
  const status = mirrorStatus(
    { channel, key },
    () => state.running,
    () => approvals.waitingIn(turn),
    summarise(batch[0]!.message.text, SESSION_TITLE_CHARS),
  );

  let result: AgentRunResult | undefined;
  let failure: string | undefined;
  showTurn(start.agent, channel.kind, turn, 'running');
  try {
    result = await scope.run(async () => {
      // The run posts statuses of its own (waiting for approval): "thinking" lands first.
      const [spec] = await Promise.all([activities.resolveAgent({ name: start.agent }), status.thinking]);
      // The policies the conversation decides approvals by: the worker's, not the run's input.
      running.spec = spec;
      return executeChild(agentRun, {
        workflowId: runWorkflowId,
        // A stop reaches a run holding its task for a read-only step at the task's heartbeat.
        workflowTaskTimeout: AGENT_RUN_TASK_TIMEOUT,
        args: [
          {
            spec,
            prompt,
            ...(state.transcriptHead ? { transcriptHead: state.transcriptHead } : {}),
            ...(settings.modelTaskQueue ? { modelTaskQueue: settings.modelTaskQueue } : {}),
            conversation: {
              workflowId,
              channel,
              approvers,
              requesters: authors,
              scope: { configured, requesters },
              approvalTimeout: settings.approvalTimeout,
              reportProgress: true,
              replyKey: key,
            },
          },
        ],
        typedSearchAttributes: turnSearchAttributes(start.agent, channel.kind),
        staticSummary: `${start.agent} · ${channel.kind} · turn ${turn}`,
        // A stop waits until the run (and its tool activities) have acknowledged, so history shows them cancelled.
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      });
    });
  } catch (error) {
    if (CancellationScope.current().consideredCancelled) throw error;
    if (!(running.stop && isCancellation(error))) failure = describe(error);
  }
  const stop = running.stop;
  state.running = undefined;
  const withdrawn = approvals.closeTurn(turn);
  // Requests the ended turn left open say so on their messages, and lose their buttons.
  if (withdrawn.length > 0) {
    const at = new Date().toISOString();
    await Promise.all(
      withdrawn.map(({ requestId, tool, args, approvers, expiresAt }) =>
        postReply(
          REPLY_APPROVAL_ENDED_ACTIVITY,
          {
            channel,
            request: { requestId, conversationId: workflowId, tool, args, approvers, expiresAt },
            ended: { outcome: 'withdrawn', at },
          },
          { requestId },
        ),
      ),
    );
  }
  await status.close();
  showTurn(start.agent, channel.kind, turn, result ? result.stopReason : failure === undefined ? 'stopped' : 'failed');

  if (result) {
    state.transcriptHead = result.transcriptHead;
    Object.assign(summary, {
      status: 'answered',
      answerExcerpt: summarise(result.answer, ANSWER_EXCERPT),
      stopReason: result.stopReason,
      finishedAt: new Date().toISOString(),
      usage: result.usage,
    });
    await Promise.all([
      postReply(REPLY_ANSWER_ACTIVITY, { channel, key, text: result.answer }),
      postReply(REPLY_STATUS_ACTIVITY, { channel, key, status: { state: 'done' } }),
    ]);
  } else {
    // The run's own messages are dropped whole; the transcript records the question and why it has no answer.
    const note =
      failure === undefined ? `(Stopped${stop?.by ? ` by ${stop.by}` : ''} before answering.)` : `(This turn failed: ${failure})`;
    const head = state.transcriptHead;
    state.transcriptHead = (
      await activities.appendToTranscript({
        ...(head ? { head } : {}),
        messages: [
          { role: 'user', parts: [{ text: prompt }] },
          { role: 'model', parts: [{ text: note }] },
        ],
      })
    ).head;
    Object.assign(summary, {
      status: failure === undefined ? 'stopped' : 'failed',
      answerExcerpt: summarise(note, ANSWER_EXCERPT),
      finishedAt: new Date().toISOString(),
    });
    await (failure === undefined
      ? postReply(REPLY_STATUS_ACTIVITY, { channel, key, status: { state: 'stopped' } })
      : postReply(REPLY_ANSWER_ACTIVITY, { channel, key, text: `Sorry, I could not finish: ${failure}` }));
  }
  try {
    const head = state.transcriptHead;
    await activities[SAVE_CONVERSATION_ACTIVITY]({
      conversationId: workflowId,
      ...(head ? { transcriptHead: head } : {}),
      turns: state.turns,
      messageIds: batch.map(({ message }) => [message.id, turn]),
    });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('Could not save the conversation; after an idle close it would start afresh', {
      error: error.cause?.message ?? error.message,
    });
  }
}

function describe(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  // The innermost cause says what went wrong; the wrappers say where.
  while (current?.cause && typeof current.cause === 'object') current = current.cause as typeof current;
  return current?.message ?? String(error);
}
