import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  scheduleActivity,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time.js';
import {
  addUsage,
  functionCalls,
  textOf,
  toolActivityType,
  ZERO_USAGE,
  type AgentSpec,
  type Content,
  type FunctionCall,
  type ModelCallInput,
  type ModelCallResult,
  type ToolOutcome,
  type TokenUsage,
} from '../core/spec.ts';
import type { RunEvent } from '../core/run-events.ts';
import { summarise } from '../core/run-events.ts';

export interface AgentRunInput {
  spec: AgentSpec;
  /** The user's message for this run. */
  prompt: string;
  /** Earlier turns of the conversation, oldest first. @default [] */
  history?: Content[];
}

export type StopReason = 'answer' | 'max_steps' | 'max_tokens' | 'max_duration';

export interface AgentRunResult {
  answer: string;
  stopReason: StopReason;
  /** Model calls made. */
  steps: number;
  toolCalls: number;
  usage: TokenUsage;
}

/** Live progress for UIs: every step so far, oldest first. */
export const progressQuery = defineQuery<RunEvent[], [fromIndex?: number]>('progress');

interface ModelActivities {
  callModel(input: ModelCallInput): Promise<ModelCallResult>;
}

const { callModel } = proxyActivities<ModelActivities>({
  startToCloseTimeout: '2 minutes',
  // The model activity beats every 2 s; a dead worker is noticed in 15 s, not 2 minutes.
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});

/**
 * A ReAct loop: call the model; run the function calls it asks for (in parallel, each a
 * tool activity); feed the results back; stop at an answer or at a named limit.
 */
export async function agentRun(input: AgentRunInput): Promise<AgentRunResult> {
  const { spec } = input;
  const events: RunEvent[] = [];
  setHandler(progressQuery, (fromIndex = 0) => events.slice(fromIndex));

  const startedAt = workflowInfo().runStartTime.getTime();
  const deadline = startedAt + msToNumber(spec.limits.maxDuration);
  const contents: Content[] = [...(input.history ?? []), { role: 'user', parts: [{ text: input.prompt }] }];
  let usage = ZERO_USAGE;
  let steps = 0;
  let toolCalls = 0;

  const finish = (stopReason: StopReason, answer: string): AgentRunResult => {
    events.push({ kind: 'answer', stopReason, text: summarise(answer, 400) });
    return { answer, stopReason, steps, toolCalls, usage };
  };

  for (;;) {
    if (steps >= spec.limits.maxSteps) {
      return finish('max_steps', `I stopped after ${steps} steps, the step limit of this agent, before reaching an answer.`);
    }
    if (usage.totalTokens >= spec.limits.maxTokens) {
      return finish('max_tokens', `I stopped after using ${usage.totalTokens} tokens, over this agent's limit of ${spec.limits.maxTokens}.`);
    }
    if (Date.now() >= deadline) {
      return finish('max_duration', `I stopped because this run reached its time limit of ${String(spec.limits.maxDuration)}.`);
    }

    steps += 1;
    events.push({ kind: 'model', step: steps });
    const response = await callModel({
      model: spec.model,
      instructions: spec.instructions,
      tools: spec.tools.map(({ name, description, parameters }) => ({ name, description, parameters })),
      contents,
    });
    usage = addUsage(usage, response.usage);
    contents.push(response.content);

    const calls = functionCalls(response.content);
    if (calls.length === 0) return finish('answer', textOf(response.content));

    toolCalls += calls.length;
    const outcomes = await Promise.all(calls.map((call) => runTool(spec, call, steps, events)));
    contents.push({
      role: 'user',
      parts: calls.map((call, index) => ({
        functionResponse: {
          ...(call.id === undefined ? {} : { id: call.id }),
          name: call.name,
          response: toFunctionResponse(outcomes[index]!),
        },
      })),
    });
  }
}

async function runTool(spec: AgentSpec, call: FunctionCall, step: number, events: RunEvent[]): Promise<ToolOutcome> {
  events.push({ kind: 'tool', step, tool: call.name, args: call.args ?? {} });
  const tool = spec.tools.find((candidate) => candidate.name === call.name);
  let outcome: ToolOutcome;
  if (!tool) {
    outcome = {
      ok: false,
      error: { type: 'UnknownTool', message: `There is no tool named "${call.name}". Tools: ${spec.tools.map((t) => t.name).join(', ') || 'none'}.` },
    };
  } else {
    try {
      outcome = await scheduleActivity<ToolOutcome>(toolActivityType(tool.name), [call.args ?? {}], {
        startToCloseTimeout: tool.timeout,
        ...(tool.heartbeatTimeout === undefined ? {} : { heartbeatTimeout: tool.heartbeatTimeout }),
        retry: tool.retry,
      });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      const cause = error.cause;
      outcome = {
        ok: false,
        error: {
          type: cause instanceof ApplicationFailure && cause.type ? cause.type : 'ToolFailed',
          message: cause?.message ?? error.message,
        },
      };
    }
  }
  events.push({ kind: 'tool_result', step, tool: call.name, ok: outcome.ok, excerpt: summarise(JSON.stringify(outcome.ok ? outcome.result : outcome.error), 160) });
  return outcome;
}

function toFunctionResponse(outcome: ToolOutcome): Record<string, unknown> {
  return outcome.ok ? { output: outcome.result } : { error: outcome.error };
}
