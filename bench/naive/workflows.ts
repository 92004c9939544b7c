import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { functionCalls, textOf, type AgentSpec, type Content } from '../../core/spec.ts';
import type { NaiveActivities } from './activities.ts';

export interface NaiveLoopInput {
  spec: AgentSpec;
  prompt: string;
  /** Task queue of the naive activities. @default the workflow's own, as in the tutorial (one worker runs both) */
  activityTaskQueue?: string;
  /** The model call as a local activity, all else as the tutorial has it: the least a step of that shape costs. @default false */
  localModel?: boolean;
}

export interface NaiveLoopResult {
  answer: string;
  steps: number;
  toolCalls: number;
}

/**
 * The baseline the benchmark compares against: the loop of the common Gemini + Temporal
 * tutorial. The workflow keeps the whole conversation and passes all of it into every model
 * activity; model responses and tool results come back inline. History grows with the
 * square of the number of steps. Bounded by the spec's step limit only.
 */
export async function naiveAgentLoop(input: NaiveLoopInput): Promise<NaiveLoopResult> {
  const options = { startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 3 } } as const;
  const { naiveCallModel: remoteModel, naiveRunTool } = proxyActivities<NaiveActivities>({
    ...(input.activityTaskQueue ? { taskQueue: input.activityTaskQueue } : {}),
    ...options,
  });
  const naiveCallModel = input.localModel ? proxyLocalActivities<NaiveActivities>(options).naiveCallModel : remoteModel;
  const contents: Content[] = [{ role: 'user', parts: [{ text: input.prompt }] }];
  let toolCalls = 0;
  for (let step = 1; step <= input.spec.limits.maxSteps; step += 1) {
    const response = await naiveCallModel({ spec: input.spec, contents });
    contents.push(response);
    const calls = functionCalls(response);
    if (calls.length === 0) return { answer: textOf(response), steps: step, toolCalls };
    toolCalls += calls.length;
    const results = await Promise.all(calls.map((call) => naiveRunTool({ name: call.name, args: call.args ?? {} })));
    contents.push({
      role: 'user',
      parts: calls.map((call, index) => ({ functionResponse: { name: call.name, response: { output: results[index] } } })),
    });
  }
  return { answer: `Stopped after ${input.spec.limits.maxSteps} steps.`, steps: input.spec.limits.maxSteps, toolCalls };
}
