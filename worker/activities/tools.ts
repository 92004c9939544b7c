import { Context } from '@temporalio/activity';
import * as z from 'zod';
import { definitionNeedsApproval, ToolInputError, type ToolDefinition } from '../../authoring/define-tool.ts';
import { summarise } from '../../core/run-events.ts';
import {
  approvalTarget,
  toolActivityType,
  type ApprovalActivities,
  type ToolActivities,
  type ToolConversation,
} from '../../core/contracts/tools.ts';
import type { PlannedCall, ToolOutcome, ToolResultRef } from '../../core/spec.ts';
import type { TranscriptStore } from '../../store/transcript-store.ts';
import { approvedArgs, type ApprovalRecords } from '../../store/approval-records.ts';
import { startHeartbeats } from './heartbeat.ts';

/**
 * One activity per tool, registered as `tool:<name>`. Arguments are checked against the
 * tool's schema here: a mismatch is an error the model can correct, not a failed run. The
 * outcome is stored; the workflow gets its ref and a one-line excerpt. A tool that needs
 * approval by its definition here (whatever the spec in workflow input says) runs only under
 * an approval recorded for this very call (`approvals`); without one the activity fails with
 * the non-retryable `ApprovalMissing`, which the model reads as the call's result.
 */
export function createToolActivities(tools: Iterable<ToolDefinition>, store: TranscriptStore, approvals: ApprovalRecords): ToolActivities {
  const activities: ToolActivities = {};
  for (const tool of tools) {
    const type = toolActivityType(tool.name);
    if (activities[type]) continue;
    activities[type] = async ({ call, approval, conversation }) => {
      const args = call.argsRef ? await store.get(call.argsRef) : (call.args ?? {});
      // Arguments the schema refuses never reach the handler, so they need no approval (as in `needsApproval`).
      const parsed = tool.input.safeParse(args ?? {});
      if (tool.approval && parsed.success && definitionNeedsApproval(tool, parsed.data)) {
        await approvals.check(approval, { target: approvalTarget(tool), args: approvedArgs(call) });
      }
      const outcome = await runTool(tool, args, conversation);
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
export function createApprovalActivities(tools: Iterable<ToolDefinition>, store: TranscriptStore): ApprovalActivities {
  const byName = new Map<string, ToolDefinition>();
  for (const tool of tools) if (!byName.has(tool.name)) byName.set(tool.name, tool);
  return {
    async needsApproval({ tool: name, call }) {
      const tool = byName.get(name);
      if (!tool) return true;
      if (typeof tool.approval !== 'function') return tool.approval === true;
      const parsed = tool.input.safeParse(call.argsRef ? await store.get(call.argsRef) : (call.args ?? {}));
      if (!parsed.success) return false;
      return definitionNeedsApproval(tool, parsed.data);
    },
  };
}

async function runTool(tool: ToolDefinition, args: unknown, conversation: ToolConversation | undefined): Promise<ToolOutcome> {
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success) {
    return { ok: false, error: { type: 'InvalidArguments', message: z.prettifyError(parsed.error) } };
  }
  const context = Context.current();
  let details: unknown;
  const heartbeats = startHeartbeats(() => details);
  try {
    const handled = Promise.resolve(
      tool.handler(parsed.data, {
        signal: context.cancellationSignal,
        heartbeat: (progress) => {
          details = progress;
          heartbeats.beat();
        },
        ...(conversation ? { conversation } : {}),
        // Attempts of one call share the activity id; so do replays of the workflow.
        idempotencyKey: `${context.info.workflowExecution?.workflowId ?? context.info.activityType}/${context.info.activityId}`,
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
    heartbeats.stop();
  }
}
