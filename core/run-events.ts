/** An agent run's wire names, and the progress events it exposes through its `progress` query. Pure module. */

/** Workflow type of an agent run (a turn's run, a sub-agent, a scheduled run): the exported function's name. */
export const AGENT_RUN_WORKFLOW = 'agentRun';
/**
 * Workflow task timeout of an agent run. A local activity (a model call, a read-only tool)
 * holds its workflow task open, and the worker heartbeats that task at 80% of this timeout:
 * only then does a stop (a cancel request) reach the run. 2 s keeps a stop within about 1.6 s
 * of a read-only step; Temporal's default of 10 s would let it wait 8 s.
 */
export const AGENT_RUN_TASK_TIMEOUT = '2 seconds';
/** Query that answers a run's progress events from an index on. */
export const PROGRESS_QUERY = 'progress';

/** One thing a run did, as its `progress` query shows it. */
export type RunEvent =
  | { kind: 'model'; step: number }
  | { kind: 'tool'; step: number; tool: string; args: Record<string, unknown> }
  /** A call starts running (after any approval): what a status line shows as "running". */
  | { kind: 'tool_start'; step: number; tool: string }
  | { kind: 'tool_result'; step: number; tool: string; ok: boolean; excerpt: string }
  | { kind: 'answer'; stopReason: string; text: string }
  | {
      kind: 'approval';
      step: number;
      tool: string;
      requestId: string;
      outcome: 'requested' | 'approved' | 'denied' | 'timed_out' | 'unavailable' | 'not_shown';
      /** Who decided, when someone did. */
      by?: string;
    }
  | { kind: 'sub_agent'; step: number; agent: string; runWorkflowId: string };

/** A one-line excerpt of at most `max` characters. */
export function summarise(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
