import * as z from 'zod';
import { compileAgent, defineAgent } from '../authoring/define-agent.ts';
import { defineTool, type ToolDefinition } from '../authoring/define-tool.ts';
import type { AgentSpec, Content } from '../core/spec.ts';
import type { GeminiReply, GeminiRequest, GeminiResponder } from '../local/gemini-server.ts';

/** The tool every benchmark loop calls; its result echoes the step so the model can count. */
export const LOOP_TOOL_NAME = 'fetch_report';

export interface LoopToolResult {
  step: number;
  of: number;
  data: string;
}

/** A tool whose result's JSON is `resultBytes` long (at least its `step`/`of` envelope). */
export function createLoopTool(resultBytes: number, options: { readOnly?: boolean } = {}): ToolDefinition {
  return defineTool({
    name: LOOP_TOOL_NAME,
    ...(options.readOnly ? { readOnly: true } : {}),
    description: 'Fetches one page of a report.',
    input: z.object({
      step: z.number().int().describe('Which model step asks for the page.'),
      of: z.number().int().describe('How many model steps the run will take.'),
    }),
    handler: ({ step, of }): LoopToolResult => {
      const envelope = JSON.stringify({ step, of, data: '' }).length;
      return { step, of, data: 'x'.repeat(Math.max(0, resultBytes - envelope)) };
    },
  });
}

/** An agent spec whose budgets never stop a benchmark run before its script does. */
export function loopAgentSpec(tool: ToolDefinition, maxSteps: number): AgentSpec {
  const agent = defineAgent({
    name: 'bench-loop',
    instructions: 'Fetch the report page by page, then answer.',
    tools: [tool],
    limits: { maxSteps, maxTokens: 1e12, maxDuration: '1 hour' },
  });
  return compileAgent(agent);
}

/** The prompt that tells the scripted model how many model calls the run makes. */
export function loopPrompt(steps: number): string {
  return `Read the report. bench steps=${steps}`;
}

const FIXED_USAGE = { promptTokens: 10, outputTokens: 5 };

/**
 * A stateless scripted model: model call k < N asks for the tool with `{ step: k, of: N }`;
 * call N answers. N comes from the prompt on the first call and from the echoed tool
 * result afterwards, so the same responder serves any number of concurrent runs of both
 * loops, whatever part of the transcript each loop sends.
 */
export function loopResponder(
  options: { delayMs?: number; onRequest?: (request: GeminiRequest, step: number) => void } = {},
): GeminiResponder {
  return (request) => {
    const next = nextStep(request.body.contents);
    options.onRequest?.(request, next.step);
    const reply: GeminiReply =
      'error' in next
        ? { status: 500, message: next.error }
        : next.step < next.of
          ? {
              content: { role: 'model', parts: [{ functionCall: { name: LOOP_TOOL_NAME, args: { step: next.step, of: next.of } } }] },
              usage: FIXED_USAGE,
            }
          : { content: { role: 'model', parts: [{ text: `Done after ${next.of} steps.` }] }, usage: FIXED_USAGE };
    return options.delayMs ? { ...reply, delayMs: options.delayMs } : reply;
  };
}

function nextStep(contents: Content[]): { step: number; of: number } | { step: number; error: string } {
  const last = contents.at(-1);
  const response = last?.parts.find((part) => part.functionResponse)?.functionResponse?.response;
  if (response) {
    const output = response.output as Partial<LoopToolResult> | undefined;
    if (typeof output?.step !== 'number' || typeof output.of !== 'number') {
      return { step: 0, error: `scripted model: the last tool result is not a loop result: ${JSON.stringify(response).slice(0, 200)}` };
    }
    return { step: output.step + 1, of: output.of };
  }
  const text = last?.parts.map((part) => part.text ?? '').join('') ?? '';
  const of = Number(/steps=(\d+)/.exec(text)?.[1] ?? 1);
  return { step: 1, of };
}
