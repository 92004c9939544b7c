import { Context } from '@temporalio/activity';
import { toolActivityType, type ToolActivities } from '../core/contracts/tools.ts';
import type { ToolDefinition } from '../authoring/define-tool.ts';
import type { ToolOutcome } from '../core/spec.ts';
import { canonicalJson } from '../store/canonical-json.ts';
import type { TranscriptStore } from '../store/transcript-store.ts';
import { storeOutcome } from '../worker/activities/tools.ts';
import type { EvalCase } from './case.ts';

/** How an eval answered one tool call. */
export type AnsweredBy = 'recording' | 'live' | 'not-run';

export interface AnsweredCall {
  tool: string;
  args: Record<string, unknown>;
  answeredBy: AnsweredBy;
}

/** The cases of a running eval, by the workflow id of their run; and what their tools were asked. */
export interface CaseBook {
  /** The case whose run (or sub-agent run) has this workflow id. */
  caseOf(workflowId: string): EvalCase | undefined;
  answered(workflowId: string, call: AnsweredCall): void;
}

/** Workflow id of a case's run: its sub-agents' ids start with it and a '/'. */
export function caseWorkflowId(evalId: string, caseId: string): string {
  return `eval:${evalId}:${caseId}`;
}

/**
 * The tool activities of an eval worker, in place of the tools' own (`toolActivities` of
 * `createAgentWorker`). A call with the same tool and the same arguments (canonical JSON) as
 * a recorded one gets the recorded outcome. Otherwise a read-only tool the case allows runs
 * for real, through its own activity; every other call gets a failure the model reads, and
 * runs nothing: a tool that changes something never runs in an eval.
 */
export function evalToolActivities(
  tools: Iterable<ToolDefinition>,
  store: TranscriptStore,
  book: CaseBook,
): (own: ToolActivities) => ToolActivities {
  return (own) => {
    const activities: ToolActivities = {};
    for (const tool of tools) {
      const type = toolActivityType(tool.name);
      if (activities[type]) continue;
      activities[type] = async (input) => {
        const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
        const evalCase = book.caseOf(workflowId);
        const args = ((input.call.argsRef ? await store.get(input.call.argsRef) : input.call.args) ?? {}) as Record<string, unknown>;
        const key = canonicalJson(args);
        const recorded = evalCase?.recorded.toolCalls.find((call) => call.tool === tool.name && canonicalJson(call.args) === key);
        if (recorded) {
          book.answered(workflowId, { tool: tool.name, args, answeredBy: 'recording' });
          return storeOutcome(store, input.call, recorded.outcome as ToolOutcome);
        }
        const live =
          evalCase &&
          tool.readOnly === true &&
          (evalCase.liveTools === true || (Array.isArray(evalCase.liveTools) && evalCase.liveTools.includes(tool.name)));
        if (live && own[type]) {
          book.answered(workflowId, { tool: tool.name, args, answeredBy: 'live' });
          return own[type](input);
        }
        book.answered(workflowId, { tool: tool.name, args, answeredBy: 'not-run' });
        const message = tool.readOnly
          ? `This eval has no recorded result for ${tool.name} with these arguments, and its case does not let it run for real; it did not run.`
          : `${tool.name} changes something, so it never runs in an eval, and this eval has no recorded result for these arguments; it did not run.`;
        return storeOutcome(store, input.call, { ok: false, error: { type: 'NotRunInEval', message } });
      };
    }
    return activities;
  };
}
