export { agentRun, progressQuery } from './agent-run.ts';
export type { AgentRunInput, AgentRunResult, StopReason } from './agent-run.ts';
