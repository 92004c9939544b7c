/**
 * Ambient runs: an agent woken by one of its triggers, with nobody asking. The schedule
 * starts `ambientRun` with an `AmbientRunInput`; the run's result is the schedule's last
 * completion result, which hands the cursor to the next run. Wire types: add optional
 * fields, never rename. Pure module.
 */

import type { TriggerSpec } from './triggers.ts';

/** Workflow type of an ambient run; the schedule's action names it. */
export const AMBIENT_RUN_WORKFLOW = 'ambientRun';

export interface AmbientRunInput {
  agent: string;
  trigger: TriggerSpec;
  origin: 'definition' | 'chat';
  /** The person who asked, for chat-made schedules. */
  owner?: string;
}

export type AmbientOutcome = 'quiet' | 'posted' | 'failed';

export interface AmbientRunResult {
  outcome: AmbientOutcome;
  /** Small cursor handed to the next run through the schedule's last completion result. */
  cursor?: string;
  /** Where it posted (Slack channel/ts, or email message id). */
  posted?: { kind: 'slack'; channel: string; ts: string } | { kind: 'email'; messageId: string };
  /** At most 300 characters, no secrets. */
  summary?: string;
}

/** What the model answers, alone, when nothing is new since the last run: the run then posts nothing. */
export const NOTHING_NEW = 'NOTHING_NEW';

/** Longest answer summary kept in memory and returned. */
export const MAX_AMBIENT_SUMMARY_CHARS = 300;
/** Longest cursor a check may hand on: it travels in every schedule's completion result. */
export const MAX_AMBIENT_CURSOR_CHARS = 4096;
/** Longest context a check may add to the prompt. */
export const MAX_AMBIENT_CHECK_CONTEXT_CHARS = 8192;

/**
 * What a trigger remembers between runs: one small JSON document per agent and trigger, kept
 * next to the transcript store. Written once at the end of every run, quiet or not.
 */
export interface AmbientMemory {
  agent: string;
  trigger: string;
  /** When the last run started (ISO), and how it ended. */
  lastRunAt?: string;
  lastOutcome?: AmbientOutcome;
  /** Why the last run stayed quiet, or why it failed. */
  lastReason?: string;
  /** When a run last posted, and a summary of what it said (≤ 300 characters). */
  lastPostedAt?: string;
  lastSummary?: string;
  /** The cursor of the last run that completed (quiet or posted). */
  cursor?: string;
  /** Message-ID (bare) of the trigger's first email: later emails are threaded under it. */
  emailThreadRoot?: string;
  /** Runs recorded so far. */
  runs: number;
  /** Workflow id of the run that wrote last: a retried save of the same run counts once. */
  lastWorkflowId?: string;
  updatedAt: string;
}

/** What a check sees: the trigger, its memory (absent on the first run) and the cursor. */
export interface AmbientCheckContext {
  trigger: TriggerSpec;
  memory?: AmbientMemory;
  /** From the schedule's last completion result when there is one, else from memory. */
  cursor?: string;
  /** Aborted when the activity is cancelled. */
  signal: AbortSignal;
}

/**
 * A check's verdict. Quiet ends the run before any model call. Otherwise `cursor` is what
 * the next run compares against (kept only if this run completes) and `context` is added
 * to the prompt (what changed).
 */
export type AmbientCheckResult = { quiet: true; reason: string } | { quiet: false; cursor?: string; context?: string };

/** Runs in the worker, as an activity, before any model call. */
export type AmbientCheck = (context: AmbientCheckContext) => Promise<AmbientCheckResult>;

/** Prefix of an ambient run's delivery mark: the run's workflow id follows. */
export function ambientDeliveryKey(workflowId: string): string {
  return `ambient:${workflowId}`;
}

/** Whether an answer is the "nothing new" marker (tolerating quotes, code ticks and a full stop around it). */
export function isNothingNew(answer: string): boolean {
  return new RegExp(`^[\\s\`*_"'“”]*${NOTHING_NEW}[\\s\`*_"'“”.]*$`).test(answer);
}

/** The user's message of an ambient run: the trigger's prompt, what the last run left, what the check found, and the rule for quiet. */
export function ambientPrompt(input: {
  agent: string;
  trigger: TriggerSpec;
  now: string;
  memory?: AmbientMemory;
  checkContext?: string;
}): string {
  const { trigger, memory } = input;
  const lines = [
    `[Scheduled run of trigger "${trigger.id}" at ${input.now}. Nobody is waiting for an answer; it will be posted for the team.]`,
    '',
    trigger.prompt,
    '',
  ];
  if (!memory?.lastRunAt) lines.push('This is the first run of this trigger.');
  else {
    lines.push(`Last run at ${memory.lastRunAt} (${memory.lastOutcome ?? 'unknown'}${memory.lastReason ? `: ${memory.lastReason}` : ''}).`);
    if (memory.lastSummary) lines.push(`Last posted at ${memory.lastPostedAt ?? 'an earlier run'}; you reported: ${memory.lastSummary}`);
  }
  if (input.checkContext) lines.push('', 'What the check found:', input.checkContext);
  lines.push('', `If nothing is new since the last run, answer exactly ${NOTHING_NEW} and nothing else: nothing is posted then.`);
  return lines.join('\n');
}
