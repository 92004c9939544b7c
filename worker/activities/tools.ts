import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { ToolInputError, type ToolDefinition } from '../../core/define-tool.ts';
import { summarise } from '../../core/run-events.ts';
import { toolActivityType, type ToolInput, type ToolOutcome, type ToolResultRef } from '../../core/spec.ts';
import type { TranscriptStore } from '../../store/transcript-store.ts';

export type ToolActivities = Record<string, (input: ToolInput) => Promise<ToolResultRef>>;

/**
 * One activity per tool, registered as `tool:<name>`. Arguments are checked against the
 * tool's schema here: a mismatch is an error the model can correct, not a failed run. The
 * outcome is stored; the workflow gets its ref and a one-line excerpt.
 */
export function createToolActivities(tools: Iterable<ToolDefinition>, store: TranscriptStore): ToolActivities {
  const activities: ToolActivities = {};
  for (const tool of tools) {
    const type = toolActivityType(tool.name);
    if (activities[type]) continue;
    activities[type] = async ({ call }: ToolInput): Promise<ToolResultRef> => {
      const args = call.argsRef ? await store.get(call.argsRef) : (call.args ?? {});
      const outcome = await runTool(tool, args);
      const json = JSON.stringify(outcome);
      return {
        ...(call.id ? { id: call.id } : {}),
        name: call.name,
        ok: outcome.ok,
        resultRef: await store.put(outcome),
        excerpt: summarise(json.slice(0, 1_000), 160),
        bytes: Buffer.byteLength(json),
      };
    };
  }
  return activities;
}

async function runTool(tool: ToolDefinition, args: unknown): Promise<ToolOutcome> {
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success) {
    return { ok: false, error: { type: 'InvalidArguments', message: z.prettifyError(parsed.error) } };
  }
  const context = Context.current();
  try {
    const result = await tool.handler(parsed.data, {
      signal: context.cancellationSignal,
      heartbeat: (details) => context.heartbeat(details),
    });
    return { ok: true, result: result ?? null };
  } catch (error) {
    if (error instanceof ToolInputError) return { ok: false, error: { type: error.type, message: error.message } };
    throw error;
  }
}
