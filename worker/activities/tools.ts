import { Context } from '@temporalio/activity';
import * as z from 'zod';
import { ToolInputError, type ToolDefinition } from '../../core/define-tool.ts';
import { summarise } from '../../core/run-events.ts';
import {
  NEEDS_APPROVAL_ACTIVITY,
  toolActivityType,
  type NeedsApprovalInput,
  type PlannedCall,
  type ToolInput,
  type ToolOutcome,
  type ToolResultRef,
} from '../../core/spec.ts';
import type { TranscriptStore } from '../../store/transcript-store.ts';

export type ToolActivities = Record<string, (input: ToolInput) => Promise<ToolResultRef>>;

/** How often a running tool tells the server it is alive, which is also how it hears of a cancellation. */
const HEARTBEAT_EVERY_MS = 2_000;

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
      return storeOutcome(store, call, outcome);
    };
  }
  return activities;
}

/** Stores a tool's outcome and describes it for the workflow: by reference, with an excerpt. */
export async function storeOutcome(store: TranscriptStore, call: PlannedCall, outcome: ToolOutcome): Promise<ToolResultRef> {
  const json = JSON.stringify(outcome);
  return {
    ...(call.id ? { id: call.id } : {}),
    name: call.name,
    ok: outcome.ok,
    resultRef: await store.put(outcome),
    excerpt: summarise(json.slice(0, 1_000), 160),
    bytes: Buffer.byteLength(json),
  };
}

/**
 * `needsApproval`: evaluates a tool's approval predicate on a call's arguments, in the worker,
 * so the workflow (which never sees handlers) learns the answer through history. Arguments
 * that fail the schema need no approval: the tool will refuse them without running. A
 * predicate that throws asks a person, to be safe.
 */
export function createApprovalActivities(tools: Iterable<ToolDefinition>, store: TranscriptStore) {
  const byName = new Map<string, ToolDefinition>();
  for (const tool of tools) if (!byName.has(tool.name)) byName.set(tool.name, tool);
  return {
    async [NEEDS_APPROVAL_ACTIVITY]({ tool: name, call }: NeedsApprovalInput): Promise<boolean> {
      const tool = byName.get(name);
      if (!tool) return true;
      if (typeof tool.approval !== 'function') return tool.approval === true;
      const parsed = tool.input.safeParse(call.argsRef ? await store.get(call.argsRef) : (call.args ?? {}));
      if (!parsed.success) return false;
      try {
        return Boolean(tool.approval(parsed.data));
      } catch {
        return true;
      }
    },
  };
}

async function runTool(tool: ToolDefinition, args: unknown): Promise<ToolOutcome> {
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success) {
    return { ok: false, error: { type: 'InvalidArguments', message: z.prettifyError(parsed.error) } };
  }
  const context = Context.current();
  let details: unknown;
  const beat = () => context.heartbeat(details);
  // No beat at the start (the first is sent to the server at once: one more write a call); the
  // first comes after HEARTBEAT_EVERY_MS, or when the handler reports progress.
  const beating = setInterval(beat, HEARTBEAT_EVERY_MS);
  try {
    const handled = Promise.resolve(
      tool.handler(parsed.data, {
        signal: context.cancellationSignal,
        heartbeat: (progress) => {
          details = progress;
          beat();
        },
      }),
    );
    // A handler that ignores its signal still lets the activity end when cancelled; its late failure is dropped.
    handled.catch(() => undefined);
    const result = await Promise.race([handled, context.cancelled]);
    return { ok: true, result: result ?? null };
  } catch (error) {
    if (error instanceof ToolInputError) return { ok: false, error: { type: error.type, message: error.message } };
    throw error;
  } finally {
    clearInterval(beating);
  }
}
