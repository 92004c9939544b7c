/**
 * Who may approve a call: pure functions shared by the conversation (which decides) and the
 * run (which shows the list in the request). Workflows import this module.
 */

import type { AgentSpec, ApprovalPolicySpec } from './spec.ts';

/** Who decides besides the tool's own policy: the conversation's configured approvers and the turn's requesters. */
export interface ApprovalScope {
  /** The conversation's approvers (its start arguments); empty means "the people who asked". */
  configured: readonly string[];
  /** Every identity (Slack user id, email address) of every person whose message the turn answers. */
  requesters: readonly string[];
}

const normal = (who: string) => who.trim().toLowerCase();

/** The agent, by name, in a spec and its sub-agents: the run that asked. @default the spec itself */
export function agentIn(spec: AgentSpec, name: string | undefined): AgentSpec {
  if (name === undefined || spec.name === name) return spec;
  const queue = [...(spec.subAgents ?? [])];
  for (let index = 0; index < queue.length && index < 100; index += 1) {
    const candidate = queue[index]!;
    if (candidate.name === name) return candidate;
    queue.push(...(candidate.subAgents ?? []));
  }
  return spec;
}

/** The policy of one tool of one agent: the tool's named approvers over the agent's; `notRequester` likewise. */
export function policyFor(agent: AgentSpec | undefined, toolName: string): ApprovalPolicySpec {
  const tool = agent?.tools.find((candidate) => candidate.name === toolName)?.approvalPolicy;
  const own = agent?.approvalPolicy;
  const approvers = tool?.approvers.length ? tool.approvers : (own?.approvers ?? []);
  const notRequester = tool?.notRequester ?? own?.notRequester ?? false;
  return { approvers, ...(notRequester ? { notRequester } : {}) };
}

/**
 * Who may approve a call under `policy`, for a turn that may answer several people: only who
 * may approve for every one of them. Named approvers (the policy's, else the conversation's)
 * are the same for each requester; with `notRequester` none of the turn's requesters may
 * approve. With no one named, the people who asked approve (so `notRequester` leaves nobody).
 */
export function allowedApprovers(policy: ApprovalPolicySpec, scope: ApprovalScope): string[] {
  const named = policy.approvers.length ? policy.approvers : scope.configured;
  if (named.length === 0) return policy.notRequester ? [] : unique(scope.requesters);
  if (!policy.notRequester) return unique(named);
  const requesters = new Set(scope.requesters.map(normal));
  return unique(named).filter((who) => !requesters.has(normal(who)));
}

/** Everyone a spec's policies name (agents, tools, sub-agents): who besides the requesters may stop a turn. */
export function namedApprovers(spec: AgentSpec | undefined): string[] {
  if (!spec) return [];
  const named: string[] = [];
  const queue = [spec];
  for (let index = 0; index < queue.length && index < 100; index += 1) {
    const agent = queue[index]!;
    named.push(...(agent.approvalPolicy?.approvers ?? []));
    for (const tool of agent.tools) named.push(...(tool.approvalPolicy?.approvers ?? []));
    queue.push(...(agent.subAgents ?? []));
  }
  return unique(named);
}

/** Whether `who` is among `people`, as approvers are compared: trimmed, case-insensitive. */
export function isAmong(who: string, people: readonly string[]): boolean {
  const wanted = normal(who);
  return wanted !== '' && people.some((candidate) => normal(candidate) === wanted);
}

/**
 * A policy with group names replaced by their members (groups are data on the agent). A name
 * that is no group stands for one person.
 */
export function expandGroups(approvers: readonly string[], groups: Readonly<Record<string, readonly string[]>>): string[] {
  return unique(approvers.flatMap((name) => (Object.hasOwn(groups, name) ? [...groups[name]!] : [name])));
}

/**
 * The `approvalPolicy` field of a compiled tool or agent: its approvers with groups expanded, and
 * `notRequester`; nothing when it names neither.
 */
export function approvalPolicyField(
  owner: { approvers?: readonly string[]; notRequester?: boolean },
  groups: Readonly<Record<string, readonly string[]>>,
): { approvalPolicy?: ApprovalPolicySpec } {
  if (!owner.approvers?.length && owner.notRequester === undefined) return {};
  return {
    approvalPolicy: {
      approvers: expandGroups(owner.approvers ?? [], groups),
      ...(owner.notRequester === undefined ? {} : { notRequester: owner.notRequester }),
    },
  };
}

function unique(people: readonly string[]): string[] {
  const seen = new Set<string>();
  return people.filter((who) => {
    const key = normal(who);
    if (key === '' || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
