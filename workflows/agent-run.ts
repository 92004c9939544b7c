import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { pushBounded } from '../core/bounded.ts';
import { BUDGET_EXCEEDED, perRunMessage } from '../core/budgets.ts';
import { MCP_LIST_TOOLS_ACTIVITY, type McpActivities } from '../core/contracts/mcp.ts';
import type { TranscriptActivities } from '../core/contracts/transcript.ts';
import { durationMs } from '../core/duration.ts';
import {
  addUsage,
  MAX_TOOL_CALLS_PER_STEP,
  ZERO_USAGE,
  type AgentSpec,
  type Content,
  type MessageRef,
  type TokenUsage,
  type ToolResultRef,
} from '../core/spec.ts';
import { TURN_PROGRESS_SIGNAL, type TurnProgress } from '../core/conversation.ts';
import { PROGRESS_QUERY, summarise, toolStepOutput, type RunEvent } from '../core/run-events.ts';
import { openApprovalDesk, type RunConversation } from './approvals.ts';
import { shouldContinueAsNew, type ContinueAsNewPolicy } from './continue-as-new.ts';
import { createModelCaller } from './model-call.ts';
import {
  approveCalls,
  executeCall,
  failed,
  ranWithModelCall,
  readOnlyStep,
  readOnlyToolOffer,
  subAgentCallsOf,
  type ToolCallContext,
} from './tool-calls.ts';
import { recordOutcome } from './search-attributes.ts';

export interface AgentRunInput {
  spec: AgentSpec;
  /** The user's message for this run. */
  prompt: string;
  /** Earlier turns, by reference: the head of a stored transcript. */
  transcriptHead?: MessageRef;
  /** Earlier turns, inline (a small chat); stored at the start of the run. */
  history?: Content[];
  /** Task queue of the model activity. @default `<this run's task queue>-model` */
  modelTaskQueue?: string;
  /**
   * Model calls as local activities of the workflow's worker (see `createModelCaller`); false
   * schedules each on `modelTaskQueue`. Runs that report progress to a conversation always
   * schedule them. @default true
   */
  localModelCalls?: boolean;
  continueAsNew?: ContinueAsNewPolicy;
  /** Nesting depth: 0 for a run started by a person, 1 for its sub-agents, … @default 0 */
  depth?: number;
  /** Set when the run answers a conversation's turn: where approvals and progress go. */
  conversation?: RunConversation;
  /** Set by the run itself when it continues as new; callers leave it out. */
  carried?: CarriedState;
}

/** What a run carries across continue-as-new: refs and counters, never messages. */
export interface CarriedState {
  specRef: MessageRef;
  head: MessageRef;
  pending: ToolResultRef[];
  steps: number;
  toolCalls: number;
  usage: TokenUsage;
  startedAt: number;
  eventOffset: number;
  continuedCount: number;
  /** Time spent waiting for people to approve calls, which the time budget does not count. */
  waitedMs?: number;
}

export type StopReason = 'answer' | 'max_steps' | 'max_tokens' | 'max_duration' | 'budget';

export interface AgentRunResult {
  answer: string;
  /** Set when the answer was too large for history: the whole text is stored here. */
  answerRef?: MessageRef;
  stopReason: StopReason;
  /** Model calls made. */
  steps: number;
  toolCalls: number;
  usage: TokenUsage;
  /** The transcript including this run's messages. */
  transcriptHead: MessageRef;
  /** How many times the run continued as new. */
  continuedCount: number;
  /** Whose spend `usage.cost` is, for `npm run costs`: the agent, its model, the person who asked (none for a scheduled run), and the depth (sub-agents' runs are also in their parent's usage). */
  spentBy?: { agent: string; model: string; person?: string; depth: number };
}

/** Live progress for UIs: events from `fromIndex` on (indexes continue across continue-as-new). */
export const progressQuery = defineQuery<RunEvent[], [fromIndex?: number]>(PROGRESS_QUERY);

const { appendToTranscript } = proxyActivities<TranscriptActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});
const { [MCP_LIST_TOOLS_ACTIVITY]: listMcpTools } = proxyActivities<McpActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

const MAX_EVENTS_KEPT = 500;

/**
 * A ReAct loop over references: the model activity reads the transcript from the store and
 * writes its response there; tool activities store their results. The workflow holds the
 * transcript's head and counters only, so each step adds the same few hundred bytes of
 * history however long the conversation. Stops at an answer or at a named limit.
 */
export async function agentRun(input: AgentRunInput): Promise<AgentRunResult> {
  const info = workflowInfo();
  const events: RunEvent[] = [];
  let eventOffset = input.carried?.eventOffset ?? 0;
  const report = progressReporter(input.conversation);
  // Only the turn's own run streams its answer into the thread; sub-agents answer their parent.
  const conversation = input.conversation;
  const streamTarget =
    conversation?.reportProgress && conversation.replyKey && conversation.channel.kind === 'slack'
      ? { stream: { channel: conversation.channel, key: conversation.replyKey } }
      : {};
  const emit = (event: RunEvent) => {
    eventOffset += pushBounded(events, event, MAX_EVENTS_KEPT);
    report(event);
  };
  setHandler(progressQuery, (fromIndex = 0) => events.slice(Math.max(0, fromIndex - eventOffset)));
  const desk = openApprovalDesk(input.conversation, emit);
  // MCP tools are listed once, at the start; the list is in history and travels across continue-as-new.
  const spec = input.carried || !input.spec.mcpServers?.length ? input.spec : await withMcpTools(input.spec);

  // The run's time budget bounds the model's retries, not a count (see `createModelCaller`).
  const callModel = createModelCaller(input.modelTaskQueue ?? `${info.taskQueue}-model`, {
    local: input.localModelCalls !== false && !input.conversation?.reportProgress,
  });
  // A local model call may run a read-only step's tools itself: the step is then one local activity.
  const readOnlyTools = callModel.local ? readOnlyToolOffer(spec, input.conversation) : undefined;

  let state: CarriedState;
  if (input.carried) {
    state = input.carried;
  } else {
    const started = await appendToTranscript({
      ...(input.transcriptHead ? { head: input.transcriptHead } : {}),
      messages: [...(input.history ?? []), { role: 'user', parts: [{ text: input.prompt }] }],
      spec,
    });
    state = {
      specRef: started.specRef!,
      head: started.head,
      pending: [],
      steps: 0,
      toolCalls: 0,
      usage: ZERO_USAGE,
      startedAt: info.runStartTime.getTime(),
      eventOffset: 0,
      continuedCount: 0,
    };
  }
  const deadline = () => state.startedAt + durationMs(spec.limits.maxDuration) + (state.waitedMs ?? 0);

  const finish = (stopReason: StopReason, answer: string, answerRef?: MessageRef): AgentRunResult => {
    emit({ kind: 'answer', stopReason, text: summarise(answer, 400) });
    recordOutcome(stopReason);
    return {
      answer,
      ...(answerRef ? { answerRef } : {}),
      stopReason,
      steps: state.steps,
      toolCalls: state.toolCalls,
      usage: state.usage,
      transcriptHead: state.head,
      continuedCount: state.continuedCount,
      spentBy: {
        agent: spec.name,
        model: spec.model,
        ...(input.conversation?.requesters?.[0] ? { person: input.conversation.requesters[0] } : {}),
        depth: input.depth ?? 0,
      },
    };
  };
  const timeBudget = createDeadline(deadline);
  const localMarkers = createMarkerCount();
  // Daily caps are the worker's to count (shared by every run): the call says whose it is. Only specs with such caps add it.
  const dailyBudget =
    spec.budget?.perPersonPerDay !== undefined || spec.budget?.perAgentPerDay !== undefined
      ? { budget: { ...(input.conversation?.requesters?.[0] ? { person: input.conversation.requesters[0] } : {}) } }
      : {};
  const timeLimit = () =>
    finish('max_duration', `I stopped because this run reached its time limit of ${String(spec.limits.maxDuration)}.`);

  for (;;) {
    if (state.steps >= spec.limits.maxSteps) {
      return finish('max_steps', `I stopped after ${state.steps} steps, the step limit of this agent, before reaching an answer.`);
    }
    if (state.usage.totalTokens >= spec.limits.maxTokens) {
      return finish(
        'max_tokens',
        `I stopped after using ${state.usage.totalTokens} tokens, over this agent's limit of ${spec.limits.maxTokens}.`,
      );
    }
    if (Date.now() >= deadline()) return timeLimit();
    const perRun = spec.budget?.perRun;
    if (perRun !== undefined && (state.usage.cost ?? 0) >= perRun) {
      return finish('budget', perRunMessage(perRun, state.usage.cost ?? 0));
    }
    if (shouldContinueAsNew(input.continueAsNew, localMarkers.unrecorded())) {
      await continueAsNew<typeof agentRun>({
        ...input,
        spec,
        carried: { ...state, eventOffset: eventOffset + events.length, continuedCount: state.continuedCount + 1 },
      });
    }

    state.steps += 1;
    emit({ kind: 'model', step: state.steps });
    const modelInput = {
      specRef: state.specRef,
      head: state.head,
      ...(state.pending.length ? { toolResults: state.pending } : {}),
      ...streamTarget,
      ...dailyBudget,
      ...(readOnlyTools ? { readOnlyTools } : {}),
    };
    let step;
    try {
      // A local call ends at the deadline by itself; a scope around it would only cost promises.
      step = callModel.local ? await callModel(modelInput, deadline()) : await timeBudget.within(() => callModel(modelInput, deadline()));
    } catch (error) {
      // A daily cap refused the call: the person reads which cap and when it resets; the run ends cleanly.
      const refusal =
        error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === BUDGET_EXCEEDED
          ? error.cause.message
          : undefined;
      if (refusal !== undefined) return finish('budget', refusal);
      throw error;
    }
    if (!step) return timeLimit();
    state.head = step.head;
    state.pending = [];
    state.usage = addUsage(state.usage, step.usage);

    if (step.calls.length === 0) return finish('answer', step.text, step.textRef);

    state.toolCalls += step.calls.length;
    const context: ToolCallContext = {
      spec,
      step: state.steps,
      depth: input.depth ?? 0,
      emit,
      desk,
      ...(input.conversation ? { conversation: input.conversation } : {}),
      ...(input.modelTaskQueue ? { modelTaskQueue: input.modelTaskQueue } : {}),
      remaining: () => ({
        steps: spec.limits.maxSteps - state.steps,
        tokens: spec.limits.maxTokens - state.usage.totalTokens,
        ms: deadline() - Date.now(),
      }),
      charge: (spent) => {
        state.usage = addUsage(state.usage, spent.usage);
        state.steps += spent.steps;
        state.toolCalls += spent.toolCalls;
      },
    };
    // One step runs a bounded number of calls; the model hears that the rest did not run, and may ask again.
    const cap = spec.limits.maxToolCallsPerStep ?? MAX_TOOL_CALLS_PER_STEP;
    const calls = step.calls.slice(0, cap);
    const skipped = step.calls.slice(cap).map((call) => {
      const result = failed(
        call,
        'TooManyToolCalls',
        `One step may make at most ${cap} tool calls and this one made ${step.calls.length}; this call did not run. Make fewer calls at a time.`,
      );
      emit({ kind: 'tool_result', step: state.steps, tool: call.name, ok: false, excerpt: result.excerpt });
      return result;
    });
    if (skipped.length === 0 && ranWithModelCall(context, calls, step.toolResults)) {
      localMarkers.add(1);
      state.pending = step.toolResults!;
      continue;
    }
    const waitStarted = Date.now();
    const clearances = await approveCalls(context, calls);
    state.waitedMs = (state.waitedMs ?? 0) + (Date.now() - waitStarted);
    context.subAgentCalls = subAgentCallsOf(spec, calls, clearances);
    // Read-only calls run in this workflow task, with no server round trip; any other call keeps the whole step as activities.
    if (readOnlyStep(spec, calls)) {
      context.localTools = true;
      localMarkers.add((callModel.local ? 1 : 0) + calls.length);
    }
    const results = await timeBudget.within(() =>
      Promise.all(calls.map((call, index) => clearances[index]!.refused ?? executeCall(context, call, clearances[index]!.grant))),
    );
    if (!results) return timeLimit();
    state.pending = [...results, ...skipped];
  }
}

async function withMcpTools(spec: AgentSpec): Promise<AgentSpec> {
  const { tools } = await listMcpTools({ servers: spec.mcpServers ?? [] });
  const taken = new Set(spec.tools.map((tool) => tool.name));
  return { ...spec, tools: [...spec.tools, ...tools.filter((tool) => !taken.has(tool.name))] };
}

/** Tells the conversation (when this run is its turn) which step the run is on; never awaited, never fatal. */
function progressReporter(conversation: RunConversation | undefined): (event: RunEvent) => void {
  if (!conversation?.reportProgress) return () => undefined;
  const handle = getExternalWorkflowHandle(conversation.workflowId);
  let lastToolStep = 0;
  /** The call whose start was reported for `lastToolStep`: its result is the step's output. */
  let reportedTool: string | undefined;
  return (event) => {
    let progress: TurnProgress | undefined;
    if (event.kind === 'model') progress = { runWorkflowId: workflowInfo().workflowId, step: event.step, state: 'thinking' };
    // "Running" is reported when a call starts, after any approval, not when it is announced.
    if (event.kind === 'tool_start' && event.step !== lastToolStep) {
      lastToolStep = event.step;
      reportedTool = event.tool;
      progress = { runWorkflowId: workflowInfo().workflowId, step: event.step, state: 'tool', tools: [event.tool] };
    }
    // One more signal per step, of a bounded size: the reported call's redacted excerpt, or its error type.
    if (event.kind === 'tool_result' && event.step === lastToolStep && event.tool === reportedTool) {
      reportedTool = undefined;
      progress = {
        runWorkflowId: workflowInfo().workflowId,
        step: event.step,
        state: 'tool',
        tools: [event.tool],
        output: toolStepOutput(event),
      };
    }
    if (progress) void handle.signal(TURN_PROGRESS_SIGNAL, progress).catch(() => undefined);
  };
}

/**
 * Markers of read-only steps that history does not show yet. A run of such steps can stay in
 * one workflow task (heartbeated) for many steps, and `historyLength` only moves when a task
 * starts: without this count a run would continue as new far past its limit. Only read-only
 * steps are counted: a step of activities ends its workflow task, and history shows its markers.
 */
function createMarkerCount() {
  let seenLength = workflowInfo().historyLength;
  let count = 0;
  return {
    add(markers: number): void {
      count += markers;
    },
    unrecorded(): number {
      const length = workflowInfo().historyLength;
      if (length !== seenLength) {
        seenLength = length;
        count = 0;
      }
      return count;
    },
  };
}

/**
 * The run's time limit as one timer, armed once per run (and again only when a person's
 * wait moves the deadline), rather than a timer per step: that would add a start and a
 * cancel event to every step. When it fires, the step in flight is cancelled.
 */
function createDeadline(deadlineAt: () => number) {
  let step: CancellationScope | undefined;
  let timer: CancellationScope | undefined;
  let armedFor: number | undefined;
  let expired = false;
  const arm = () => {
    const at = deadlineAt();
    if (at === armedFor) return;
    timer?.cancel();
    armedFor = at;
    expired = false;
    const scope = new CancellationScope();
    timer = scope;
    scope
      .run(() => sleep(Math.max(1, at - Date.now())))
      .then(
        () => {
          expired = true;
          step?.cancel();
        },
        () => undefined,
      );
  };
  return {
    /** Runs `work`, cancelled if the deadline passes; undefined when it did. */
    async within<T>(work: () => Promise<T>): Promise<T | undefined> {
      arm();
      if (expired || Date.now() >= deadlineAt()) return undefined;
      const scope = new CancellationScope();
      step = scope;
      try {
        return await scope.run(work);
      } catch (error) {
        if (isCancellation(error) && expired && !CancellationScope.current().consideredCancelled) return undefined;
        throw error;
      } finally {
        step = undefined;
      }
    },
  };
}
