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

/** Longest output a tool step shows on its card (Slack takes 256 in a `task_update`'s output). */
export const MAX_STEP_OUTPUT = 200;

/** What a finished tool step shows: a redacted excerpt of its result, or the type of its error. */
export interface ToolStepOutput {
  ok: boolean;
  text: string;
}

/**
 * Values that look like credentials: tokens with a known prefix, `key=value` pairs whose key
 * names a secret, bearer headers, JWTs, private keys, and long opaque strings. The excerpt is
 * shown to everyone in the thread, so it errs towards hiding.
 */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[redacted]'],
  [
    /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|client[_-]?secret|authorization|private[_-]?key|session|cookie|credentials?)(\\?["']?\s*[:=]\s*\\?["']?)(?:Bearer\s+)?[^\s"'\\,;}&]+/gi,
    '$1$2[redacted]',
  ],
  [/\bBearer\s+[\w.~+/=-]+/gi, 'Bearer [redacted]'],
  [/\bxox[a-z]-[\w-]+|\bxapp-[\w-]+/g, '[redacted]'],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b/g, '[redacted]'],
  [/\bAIza[\w-]{20,}/g, '[redacted]'],
  [/\b(?:sk|pk|rk)[-_](?:live[-_]|test[-_])?[\w-]{16,}/g, '[redacted]'],
  [/\bgh[pousr]_\w{20,}/g, '[redacted]'],
  [/\beyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[redacted]'],
  // Opaque strings of 40 or more letters and digits (keys, hashes); paths and words have no digits or are shorter.
  [/(?<![\w+-])(?=[\w+-]*\d)(?=[\w+-]*[A-Za-z])[\w+-]{40,}={0,2}/g, '[redacted]'],
];

/** `text` with anything that looks like a credential replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((redacted, [pattern, replacement]) => redacted.replace(pattern, replacement), text);
}

/**
 * The error type in a failed call's excerpt: the workflow writes `Type: message`, a tool
 * activity the stored outcome's JSON (`{"ok":false,"error":{"type":"Type",…`).
 */
export function failureType(excerpt: string): string {
  const stored = /^\{"ok":false,"error":\{"type":"([\w.-]{1,80})"/.exec(excerpt);
  if (stored) return stored[1]!;
  const inline = /^([A-Z][\w.-]{0,79}):/.exec(excerpt);
  return inline ? inline[1]! : 'ToolFailed';
}

/** A finished call's output for its step's card: bounded, redacted, and for a failure only its error type. */
export function toolStepOutput(result: { ok: boolean; excerpt: string }): ToolStepOutput {
  return result.ok
    ? { ok: true, text: summarise(redactSecrets(result.excerpt), MAX_STEP_OUTPUT) }
    : { ok: false, text: failureType(result.excerpt) };
}
