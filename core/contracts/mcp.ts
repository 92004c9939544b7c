/** MCP servers' tools as activities. Wire contracts: activity types never renamed in place. */

import type { McpServerSpec, PlannedCall, ToolResultRef, ToolSpec } from '../spec.ts';

/** Lists the tools of an agent's MCP servers (once, at the start of a run). */
export const MCP_LIST_TOOLS_ACTIVITY = 'mcp:listTools';
/** Calls one tool on an MCP server. */
export const MCP_CALL_ACTIVITY = 'mcp:call';

export interface McpListToolsInput {
  servers: McpServerSpec[];
}

export interface McpListToolsResult {
  /** Tool specs with `mcp` set, named `<server>_<tool>`. */
  tools: ToolSpec[];
}

export interface McpCallInput {
  server: McpServerSpec;
  /** The tool's name on the server. */
  tool: string;
  call: PlannedCall;
}

export interface McpActivities {
  [MCP_LIST_TOOLS_ACTIVITY]: (input: McpListToolsInput) => Promise<McpListToolsResult>;
  [MCP_CALL_ACTIVITY]: (input: McpCallInput) => Promise<ToolResultRef>;
}
