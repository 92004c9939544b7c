import { ApplicationFailure } from '@temporalio/activity';
import { compileAgent, type AgentDefinition } from '../../authoring/define-agent.ts';
import type { AgentActivities } from '../../core/contracts/agents.ts';

/**
 * `resolveAgent`: the conversation names its agent; the worker, which holds the definitions,
 * compiles it into the spec a turn's run receives. Each turn resolves again, so a deploy
 * reaches the next turn while a turn in flight keeps the spec it started with.
 */
export function createAgentActivities(agents: Iterable<AgentDefinition>): AgentActivities {
  const byName = new Map<string, AgentDefinition>();
  for (const agent of agents) byName.set(agent.name, agent);
  return {
    async resolveAgent({ name }) {
      const agent = byName.get(name);
      if (!agent) {
        throw ApplicationFailure.nonRetryable(
          `No agent named "${name}" on this worker. Agents: ${[...byName.keys()].join(', ') || 'none'}.`,
          'UnknownAgent',
        );
      }
      return compileAgent(agent);
    },
  };
}
