import type { TokenUsage } from '../core/spec.ts';
import type { AgentRunResult } from '../workflows/agent-run.ts';
import { canonicalJson } from '../store/canonical-json.ts';
import type { EvalCase } from './case.ts';

/** A call the model made during the eval, in its run or a sub-agent's. */
export interface ObservedCall {
  tool: string;
  args: Record<string, unknown>;
  /** The agent whose run made it. */
  agent: string;
}

/** What a case's run showed, as scoring reads it. */
export interface ObservedRun {
  answer: string;
  stopReason: string;
  steps: number;
  usage: TokenUsage;
  /** US dollars, when the run reports a cost. */
  cost?: number;
  calls: ObservedCall[];
  /** Approval requests: the tool, and how each ended (in an eval nobody decides: `unavailable`). */
  approvals: { tool: string; outcome: string }[];
  judge?: JudgeVerdict;
}

export interface JudgeVerdict {
  verdict: 'pass' | 'fail';
  reason: string;
}

export interface Score {
  pass: boolean;
  /** Why it failed, one line per unmet expectation. */
  failures: string[];
  /** What could not be checked, and why (a cost not recorded, a rubric without a judge). */
  notes: string[];
}

/** Checks a run against its case's expectations; every unmet one is named with what happened instead. */
export function scoreRun(evalCase: EvalCase, run: ObservedRun): Score {
  const expect = evalCase.expect;
  const failures: string[] = [];
  const notes: string[] = [];
  const called = [...new Set(run.calls.map((call) => call.tool))];
  const calledList = called.length ? called.join(', ') : 'no tool';

  for (const tool of expect.toolsCalled ?? []) {
    if (!called.includes(tool)) failures.push(`expected a call to ${tool}; the agent called ${calledList}`);
  }
  for (const tool of expect.toolsNotCalled ?? []) {
    const calls = run.calls.filter((call) => call.tool === tool);
    if (calls.length) failures.push(`called ${tool}, which it must not call (${calls.map((call) => canonicalJson(call.args)).join('; ')})`);
  }
  for (const matcher of expect.args ?? []) {
    const calls = run.calls.filter((call) => call.tool === matcher.tool);
    const wanted = describeMatcher(matcher);
    if (calls.length === 0) {
      failures.push(`expected a call to ${matcher.tool} with ${wanted}; ${matcher.tool} was not called (the agent called ${calledList})`);
    } else if (!calls.some((call) => argsMatch(call.args, matcher))) {
      failures.push(
        `no call to ${matcher.tool} had ${wanted}; it was called with ${calls.map((call) => canonicalJson(call.args)).join('; ')}`,
      );
    }
  }
  for (const tool of expect.approvals ?? []) {
    if (!run.approvals.some((approval) => approval.tool === tool))
      failures.push(`expected an approval request for ${tool}; none was asked`);
  }
  const answer = expect.answer;
  const text = run.answer.toLowerCase();
  for (const part of answer?.contains ?? [])
    if (!text.includes(part.toLowerCase())) failures.push(`the answer does not contain "${part}": ${quote(run.answer)}`);
  for (const pattern of answer?.matches ?? [])
    if (!new RegExp(pattern, 'i').test(run.answer)) failures.push(`the answer does not match /${pattern}/i: ${quote(run.answer)}`);
  for (const part of answer?.notContains ?? [])
    if (text.includes(part.toLowerCase())) failures.push(`the answer contains "${part}", which it must not: ${quote(run.answer)}`);
  if (expect.maxSteps !== undefined && run.steps > expect.maxSteps)
    failures.push(`took ${run.steps} steps, over the maximum of ${expect.maxSteps}`);
  if (expect.maxTokens !== undefined && run.usage.totalTokens > expect.maxTokens)
    failures.push(`used ${run.usage.totalTokens} tokens, over the maximum of ${expect.maxTokens}`);
  if (expect.maxCost !== undefined) {
    if (run.cost === undefined) notes.push('maxCost: not recorded (this run reports no cost)');
    else if (run.cost > expect.maxCost) failures.push(`cost $${run.cost.toFixed(6)}, over the maximum of $${expect.maxCost}`);
  }
  if (expect.rubric !== undefined) {
    if (!run.judge) notes.push('rubric: not judged (no judge model: set GOOGLE_API_KEY or give --judge-url)');
    else if (run.judge.verdict === 'fail') failures.push(`the judge failed the answer: ${run.judge.reason}`);
  }
  if (run.stopReason !== 'answer') notes.push(`the run stopped at ${run.stopReason}, not at an answer`);
  return { pass: failures.length === 0, failures, notes };
}

type ArgsMatcher = NonNullable<EvalCase['expect']['args']>[number];

export function argsMatch(args: Record<string, unknown>, matcher: ArgsMatcher): boolean {
  if (matcher.equals && canonicalJson(args) !== canonicalJson(matcher.equals)) return false;
  for (const [name, value] of Object.entries(matcher.includes ?? {})) {
    if (canonicalJson(args[name] ?? null) !== canonicalJson(value)) return false;
  }
  for (const [name, pattern] of Object.entries(matcher.matches ?? {})) {
    const value = args[name];
    if (value === undefined || !new RegExp(pattern, 'i').test(typeof value === 'string' ? value : canonicalJson(value))) return false;
  }
  return true;
}

function describeMatcher(matcher: ArgsMatcher): string {
  const parts: string[] = [];
  if (matcher.equals) parts.push(`arguments ${canonicalJson(matcher.equals)}`);
  for (const [name, value] of Object.entries(matcher.includes ?? {})) parts.push(`${name} = ${canonicalJson(value)}`);
  for (const [name, pattern] of Object.entries(matcher.matches ?? {})) parts.push(`${name} matching /${pattern}/i`);
  return parts.join(' and ') || 'any arguments';
}

function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return `"${flat.length > 120 ? `${flat.slice(0, 119)}…` : flat}"`;
}

/**
 * The run's cost in US dollars, when it reports one: the costs work adds it to the token counts
 * (`usage.cost`, at the model table's prices); a run recorded before reports none, and
 * `maxCost` says so. Read loosely, so results from either side of that change compare.
 */
export function costOf(result: AgentRunResult): number | undefined {
  const usage = result.usage as unknown as Record<string, unknown>;
  const candidates = [usage.cost, usage.costUsd, (result as unknown as Record<string, unknown>).cost];
  const found = candidates.find((value) => typeof value === 'number' && Number.isFinite(value));
  return found as number | undefined;
}
