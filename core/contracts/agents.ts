/** The agent registry as an activity: a conversation names its agent, the worker compiles it. Wire contract. */

import type { AgentSpec } from '../spec.ts';

export interface ResolveAgentInput {
  /** The agent's registered name. */
  name: string;
}

export interface AgentActivities {
  /** Compiles a registered agent, by name, into an `AgentSpec`. */
  resolveAgent: (input: ResolveAgentInput) => Promise<AgentSpec>;
}
