/** MCP servers' tools as activities. Wire contracts: activity types never renamed in place. */

import type { ApprovalGrant } from './tools.ts';
import type { McpServerRef, PlannedCall, ToolResultRef, ToolSpec } from '../spec.ts';

/** Lists the tools of an agent's MCP servers (once, at the start of a run). */
export const MCP_LIST_TOOLS_ACTIVITY = 'mcp:listTools';
/** Calls one tool on an MCP server. */
export const MCP_CALL_ACTIVITY = 'mcp:call';

export interface McpListToolsInput {
  /** By name: the worker resolves each in its own configuration; an unknown name fails (`UnknownMcpServer`). */
  servers: McpServerRef[];
}

export interface McpListToolsResult {
  /** Tool specs with `mcp` set, named `<server>_<tool>`. */
  tools: ToolSpec[];
}

export interface McpCallInput {
  /** By name, as in `McpListToolsInput`; anything else a recorded input carries (a command, a URL) is ignored. */
  server: McpServerRef;
  /** The tool's name on the server. */
  tool: string;
  call: PlannedCall;
  /** The approval the conversation recorded for this call, when it needed one. */
  approval?: ApprovalGrant;
}

export interface McpActivities {
  [MCP_LIST_TOOLS_ACTIVITY]: (input: McpListToolsInput) => Promise<McpListToolsResult>;
  [MCP_CALL_ACTIVITY]: (input: McpCallInput) => Promise<ToolResultRef>;
}
