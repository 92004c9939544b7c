import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { ToolInputError, type ToolDefinition } from '../../core/define-tool.ts';
import { toolActivityType, type ToolOutcome } from '../../core/spec.ts';

export type ToolActivities = Record<string, (args: unknown) => Promise<ToolOutcome>>;

/**
 * One activity per tool, registered as `tool:<name>`. Arguments are checked against the
 * tool's schema here: a mismatch returns an error the model can correct, not a failed run.
 */
export function createToolActivities(tools: Iterable<ToolDefinition>): ToolActivities {
  const activities: ToolActivities = {};
  for (const tool of tools) {
    const type = toolActivityType(tool.name);
    if (activities[type]) continue;
    activities[type] = async (args: unknown): Promise<ToolOutcome> => {
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
        if (error instanceof ToolInputError) {
          return { ok: false, error: { type: error.type, message: error.message } };
        }
        throw error;
      }
    };
  }
  return activities;
}
