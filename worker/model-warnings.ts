import type { AgentDefinition } from '../authoring/define-agent.ts';
import { modelWarning } from '../core/models.ts';

/**
 * One line per model the agents (and their sub-agents) use that deserves a look at start: not
 * in the table, or within `SHUTDOWN_WARNING_DAYS` of its shutdown. Shut-down models never get
 * here: defining the agent refused them.
 */
export function modelWarningsAtStart(agents: Iterable<AgentDefinition>, now = Date.now()): string[] {
  const users = new Map<string, string[]>();
  const visited = new Set<AgentDefinition>();
  const visit = (agent: AgentDefinition) => {
    if (visited.has(agent)) return;
    visited.add(agent);
    users.set(agent.model, [...(users.get(agent.model) ?? []), agent.name]);
    for (const subAgent of agent.subAgents ?? []) visit(subAgent);
  };
  for (const agent of agents) visit(agent);
  return [...users].flatMap(([model, names]) => {
    const warning = modelWarning(
      model,
      now,
      `GEMINI_MODEL, or the "model" of agent${names.length > 1 ? 's' : ''} ${names.map((name) => `"${name}"`).join(', ')}`,
    );
    return warning ? [warning] : [];
  });
}
