export { agentRun, progressQuery } from './agent-run.ts';
export type { AgentRunInput, AgentRunResult, StopReason } from './agent-run.ts';
export { conversation } from './conversation.ts';
export type { ConversationInput, ConversationResult } from './conversation.ts';
export { ambientRun } from './ambient-run.ts';
export { viewContext } from './view-context.ts';
