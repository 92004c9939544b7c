import {
  ActivityCancellationType,
  type ActivityOptions,
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  executeChild,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  TemporalFailure,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { MCP_CALL_ACTIVITY, type McpActivities } from '../core/contracts/mcp.ts';
import {
  toolActivityType,
  type ApprovalActivities,
  type ApprovalGrant,
  type ToolActivities,
  type ToolConversation,
} from '../core/contracts/tools.ts';
import { durationMs } from '../core/duration.ts';
import { AGENT_RUN_TASK_TIMEOUT, AGENT_RUN_WORKFLOW, summarise, type RunEvent } from '../core/run-events.ts';
import type { ReadOnlyToolOffer } from '../core/contracts/model.ts';
import {
  MAX_AGENT_DEPTH,
  MAX_TOOL_CALLS_PER_STEP,
  type AgentSpec,
  type PlannedCall,
  type TokenUsage,
  type ToolResultRef,
  type ToolSpec,
} from '../core/spec.ts';
import type { agentRun } from './agent-run.ts';
import type { ApprovalDesk, ApprovalOutcome, RunConversation } from './approvals.ts';

/** What one step's tool calls need from their run. */
export interface ToolCallContext {
  spec: AgentSpec;
  step: number;
  /** Nesting depth of the run: 0 for a turn's run, 1 for its sub-agents, … */
  depth: number;
  emit(event: RunEvent): void;
  desk: ApprovalDesk;
  conversation?: RunConversation;
  modelTaskQueue?: string;
  /** What is left of the run's budgets; a sub-agent gets no more. */
  remaining(): { steps: number; tokens: number; ms: number };
  /** Adds a sub-agent's spending to the run's. */
  charge(spent: { usage: TokenUsage; steps: number; toolCalls: number }): void;
  /** The step's sub-agent calls that run side by side (approved or asking no one), in the model's order: they share what is left. */
  subAgentCalls?: PlannedCall[];
  /** Set when every call of the step is to a read-only tool (`readOnlyStep`): they run as local activities. */
  localTools?: boolean;
}

/**
 * Whether a step's calls may all run as local activities, in the workflow task that has the
 * model's answer: each names a tool that declares itself read-only, asks no one, and is the
 * worker's own (not a sub-agent, not an MCP server's, whose hints are the server's word).
 * Such a call may run again after a crash, which changes nothing. A call to a tool that does
 * not exist runs nowhere, so it does not hold the step back.
 */
export function readOnlyStep(spec: AgentSpec, calls: PlannedCall[]): boolean {
  let some = false;
  for (const call of calls) {
    const tool = spec.tools.find((candidate) => candidate.name === call.name);
    if (!tool) continue;
    if (!runsLocally(tool)) return false;
    some = true;
  }
  return some;
}

function runsLocally(tool: ToolSpec): boolean {
  return tool.readOnly === true && tool.approval === 'never' && !tool.subAgent && !tool.mcp;
}

/**
 * The read-only tools a local model call may run itself, right after the model answers
 * (`fuseReadOnlyTools` in the worker): the step is then one local activity. Undefined when
 * the spec has none.
 */
export function readOnlyToolOffer(spec: AgentSpec, conversation: RunConversation | undefined): ReadOnlyToolOffer | undefined {
  const tools = spec.tools.filter(runsLocally).map((tool) => ({ name: tool.name, timeoutMs: durationMs(tool.timeout) }));
  if (tools.length === 0) return undefined;
  const asked = toolConversation(spec, conversation);
  return { tools, maxCalls: spec.limits.maxToolCallsPerStep ?? MAX_TOOL_CALLS_PER_STEP, ...(asked ? { conversation: asked } : {}) };
}

/**
 * Whether the model call ran the step's calls itself (`readOnlyToolOffer`): a result for each,
 * and each a read-only tool of the spec. The run then reports them as it reports calls it runs.
 */
export function ranWithModelCall(context: ToolCallContext, calls: PlannedCall[], results: ToolResultRef[] | undefined): boolean {
  if (!results || results.length !== calls.length) return false;
  if (!calls.every((call) => context.spec.tools.some((tool) => tool.name === call.name && runsLocally(tool)))) return false;
  for (const [index, call] of calls.entries()) {
    const result = results[index]!;
    context.emit({ kind: 'tool', step: context.step, tool: call.name, args: call.args ?? { argsRef: call.argsRef } });
    context.emit({ kind: 'tool_start', step: context.step, tool: call.name });
    context.emit({ kind: 'tool_result', step: context.step, tool: call.name, ok: result.ok, excerpt: result.excerpt });
  }
  return true;
}

/** Who a call answers, and where, from the run (never from the model's arguments). */
function toolConversation(spec: AgentSpec, conversation: RunConversation | undefined): ToolConversation | undefined {
  return (
    conversation && {
      conversationId: conversation.workflowId,
      agent: spec.name,
      channel: conversation.channel,
      requesters: conversation.requesters ?? [],
    }
  );
}

/** The sub-agent calls among a step's calls that will run, by the tools of the run's spec. */
export function subAgentCallsOf(spec: AgentSpec, calls: PlannedCall[], clearances: Clearance[]): PlannedCall[] {
  return calls.filter((call, index) => !clearances[index]?.refused && spec.tools.some((tool) => tool.name === call.name && tool.subAgent));
}

/** This call's part of `total` when `of` calls share it: equal parts, the remainder to the first calls. */
function shareOf(total: number, of: number, index: number): number {
  return Math.floor(total / of) + (index < total % of ? 1 : 0);
}

const { needsApproval } = proxyActivities<ApprovalActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/** What the first phase decided about a call: its result when it may not run, or the approval it runs under. */
export interface Clearance {
  refused?: ToolResultRef;
  /** Where the person's approval was recorded; the tool activity checks it in the worker. */
  grant?: ApprovalGrant;
}

/**
 * First phase of a step: announces every call and asks a person about those that need it,
 * all at once. A call that may not run gets its result here (the model is told why); an
 * approved one gets where its approval is recorded. Time spent here waits for people, so the
 * run does not count it against its time budget.
 */
export async function approveCalls(context: ToolCallContext, calls: PlannedCall[]): Promise<Clearance[]> {
  for (const call of calls)
    context.emit({ kind: 'tool', step: context.step, tool: call.name, args: call.args ?? { argsRef: call.argsRef } });
  // Most steps ask no one. Every promise workflow code makes costs a stack trace (the SDK's
  // stack-trace query), so a step with nothing to wait for makes none here.
  const asksNoOne = calls.every((call) => {
    const tool = context.spec.tools.find((candidate) => candidate.name === call.name);
    return !tool || tool.approval === 'never';
  });
  if (asksNoOne) return calls.map(() => ({}));
  return Promise.all(
    calls.map(async (call): Promise<Clearance> => {
      const tool = context.spec.tools.find((candidate) => candidate.name === call.name);
      if (!tool || tool.approval === 'never') return {};
      if (tool.approval === 'predicate' && !(await needsApproval({ tool: tool.name, call }))) return {};
      const outcome = await context.desk.ask(context.spec, tool, call, context.step);
      if (outcome.outcome === 'approved')
        return context.conversation ? { grant: { conversationId: context.conversation.workflowId, requestId: outcome.requestId } } : {};
      const result = refused(call, outcome);
      context.emit({ kind: 'tool_result', step: context.step, tool: call.name, ok: false, excerpt: result.excerpt });
      return { refused: result };
    }),
  );
}

/** Second phase: runs one call as its activity, an MCP call, or a sub-agent's child run. */
export async function executeCall(context: ToolCallContext, call: PlannedCall, grant?: ApprovalGrant): Promise<ToolResultRef> {
  const tool = context.spec.tools.find((candidate) => candidate.name === call.name);
  context.emit({ kind: 'tool_start', step: context.step, tool: call.name });
  let result: ToolResultRef;
  if (!tool) {
    const message = `There is no tool named "${call.name}". Tools: ${context.spec.tools.map((t) => t.name).join(', ') || 'none'}.`;
    result = failed(call, 'UnknownTool', message);
  } else if (tool.subAgent) {
    result = await callSubAgent(context, tool, call);
  } else {
    result = await callActivity(context, tool, call, grant);
  }
  context.emit({ kind: 'tool_result', step: context.step, tool: call.name, ok: result.ok, excerpt: result.excerpt });
  return result;
}

async function callActivity(context: ToolCallContext, tool: ToolSpec, call: PlannedCall, grant?: ApprovalGrant): Promise<ToolResultRef> {
  const options: ActivityOptions = {
    startToCloseTimeout: tool.timeout,
    ...(tool.heartbeatTimeout === undefined ? {} : { heartbeatTimeout: tool.heartbeatTimeout }),
    retry: tool.retry,
    // A stop or a time limit waits for the tool to acknowledge, so history shows it cancelled.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
  let running: Promise<ToolResultRef>;
  if (tool.mcp) {
    const server = context.spec.mcpServers?.find((candidate) => candidate.name === tool.mcp!.server);
    if (!server) return failed(call, 'UnknownTool', `The MCP server "${tool.mcp.server}" of tool "${tool.name}" is not configured.`);
    running = proxyActivities<McpActivities>(options)[MCP_CALL_ACTIVITY]({
      server,
      tool: tool.mcp.tool,
      call,
      ...(grant ? { approval: grant } : {}),
    });
  } else {
    const conversation = toolConversation(context.spec, context.conversation);
    const tools = context.localTools ? proxyLocalActivities<ToolActivities>(localOptions(tool)) : proxyActivities<ToolActivities>(options);
    // The proxy answers every key; the index type alone cannot say so.
    running = tools[toolActivityType(tool.name)]!({
      call,
      ...(conversation ? { conversation } : {}),
      ...(grant ? { approval: grant } : {}),
    });
  }
  try {
    return await running;
  } catch (error) {
    if (isCancellation(error)) throw error;
    // A local call's failure may arrive as its cause alone (an ApplicationFailure, a timeout).
    const cause =
      error instanceof ActivityFailure ? error.cause : context.localTools && error instanceof TemporalFailure ? error : undefined;
    if (!cause && !(error instanceof ActivityFailure)) throw error;
    return failed(
      call,
      cause instanceof ApplicationFailure && cause.type ? cause.type : 'ToolFailed',
      cause?.message ?? (error as Error).message,
    );
  }
}

/**
 * A read-only tool as a local activity: the worker runs it inside the workflow task, and the
 * marker recording its result (a reference to the stored outcome, as an activity's would be)
 * is written with the task that schedules the next model call. Longer waits between attempts
 * become a timer in history rather than a task held open. A stop does not wait for the tool
 * to acknowledge: it changes nothing, and the run's workflow task heartbeat (its workflow task
 * timeout, see `AGENT_RUN_TASK_TIMEOUT`) already bounds how long the stop waits to be heard.
 */
function localOptions(tool: ToolSpec) {
  return {
    startToCloseTimeout: tool.timeout,
    retry: tool.retry,
    localRetryThreshold: '10 seconds',
    cancellationType: ActivityCancellationType.TRY_CANCEL,
  } as const;
}

/** A sub-agent's call: a child run with the smaller of its own budget and what is left of this run's. */
async function callSubAgent(context: ToolCallContext, tool: ToolSpec, call: PlannedCall): Promise<ToolResultRef> {
  const subAgent = context.spec.subAgents?.find((candidate) => candidate.name === tool.subAgent);
  if (!subAgent) return failed(call, 'UnknownTool', `The agent "${tool.subAgent}" is not among ${context.spec.name}'s sub-agents.`);
  if (context.depth >= MAX_AGENT_DEPTH) {
    return failed(
      call,
      'NestingTooDeep',
      `Agents call agents at most ${MAX_AGENT_DEPTH} levels deep; ${tool.name} cannot be called from here.`,
    );
  }
  if (call.argsRef) return failed(call, 'TaskTooLong', `The task for ${tool.name} is too long; describe it in under 4 KB.`);
  const task = call.args?.task;
  if (typeof task !== 'string' || task.trim() === '')
    return failed(call, 'InvalidArguments', `${tool.name} needs a "task": a non-empty string.`);
  const left = context.remaining();
  // Side by side, each sub-agent gets its part of the steps and tokens left (the time is
  // shared anyway: they run at once), so that together they cannot spend more than the run had.
  const siblings = context.subAgentCalls ?? [];
  const index = siblings.indexOf(call);
  if (siblings.length > 1 && index >= 0) {
    left.steps = shareOf(left.steps, siblings.length, index);
    left.tokens = shareOf(left.tokens, siblings.length, index);
  }
  if (left.steps < 1 || left.tokens < 1 || left.ms < 1_000) {
    return failed(call, 'BudgetExhausted', `This run has no budget left for ${tool.name} (steps ${left.steps}, tokens ${left.tokens}).`);
  }
  const limits = {
    maxSteps: Math.min(subAgent.limits.maxSteps, left.steps),
    maxTokens: Math.min(subAgent.limits.maxTokens, left.tokens),
    maxDuration: Math.min(durationMs(subAgent.limits.maxDuration), left.ms),
  };
  const workflowId = `${workflowInfo().workflowId}/${subAgent.name}-${uuid4().slice(0, 8)}`;
  context.emit({ kind: 'sub_agent', step: context.step, agent: subAgent.name, runWorkflowId: workflowId });
  try {
    const result = await executeChild<typeof agentRun>(AGENT_RUN_WORKFLOW, {
      workflowId,
      workflowTaskTimeout: AGENT_RUN_TASK_TIMEOUT,
      args: [
        {
          spec: { ...subAgent, limits },
          prompt: task,
          depth: context.depth + 1,
          ...(context.conversation ? { conversation: { ...context.conversation, reportProgress: false } } : {}),
          ...(context.modelTaskQueue ? { modelTaskQueue: context.modelTaskQueue } : {}),
        },
      ],
    });
    context.charge(result);
    return {
      ...(call.id ? { id: call.id } : {}),
      name: call.name,
      ok: true,
      result: { answer: result.answer, stopReason: result.stopReason },
      excerpt: summarise(result.answer, 160),
      bytes: result.answer.length,
    };
  } catch (error) {
    if (isCancellation(error) || !(error instanceof ChildWorkflowFailure)) throw error;
    return failed(call, 'SubAgentFailed', error.cause?.message ?? error.message);
  }
}

function refused(call: PlannedCall, outcome: ApprovalOutcome): ToolResultRef {
  if (outcome.outcome === 'timed_out') {
    return failed(
      call,
      'ApprovalTimedOut',
      `No one decided on this call within ${String(outcome.timeout)}, so it was denied; it did not run.`,
    );
  }
  if (outcome.outcome === 'not_shown') return failed(call, 'ApprovalNotShown', outcome.reason);
  if (outcome.outcome === 'unavailable') {
    return failed(call, 'ApprovalUnavailable', 'This call needs a person to approve it, and this run has no one to ask; it did not run.');
  }
  return failed(call, 'ApprovalDenied', `${outcome.by} denied this call at ${outcome.at}; it did not run.`);
}

export function failed(call: PlannedCall, type: string, message: string): ToolResultRef {
  return {
    ...(call.id ? { id: call.id } : {}),
    name: call.name,
    ok: false,
    error: { type, message },
    excerpt: summarise(`${type}: ${message}`, 160),
    bytes: 0,
  };
}
