/**
 * The wire shapes shared by workflows, activities and clients. Pure types and pure
 * functions only: workflows import this module, so it must stay deterministic.
 */

import type { Duration } from '@temporalio/common';
import type { BudgetSpec } from './budgets.ts';

/** A duration as Temporal reads it: `'30 seconds'`, `'5 minutes'`, or milliseconds. */
export type { Duration };

export interface RetrySpec {
  /** @default 3 */
  maximumAttempts?: number;
  /** @default '1 second' */
  initialInterval?: Duration;
  /** @default 2 */
  backoffCoefficient?: number;
  /** @default '1 minute' */
  maximumInterval?: Duration;
  /** Error types that are never retried. */
  nonRetryableErrorTypes?: string[];
}

/** JSON Schema, as produced by `z.toJSONSchema`. */
export type JsonSchema = Record<string, unknown>;

export interface ToolSpec {
  /** Wire name: the model calls it by this name and the activity type is `tool:<name>`. */
  name: string;
  description: string;
  parameters: JsonSchema;
  /** @default '1 minute' */
  timeout: Duration;
  /** Heartbeat timeout for long tools; omitted for short ones. */
  heartbeatTimeout?: Duration;
  retry: RetrySpec;
  /** Whether a person must approve each call. */
  approval: 'never' | 'always' | 'predicate';
  /** How long a person has to decide; no decision by then means denied. @default the agent's, then the conversation's */
  approvalTimeout?: Duration;
  /** Who may approve, groups expanded. @default the agent's policy */
  approvalPolicy?: ApprovalPolicySpec;
  /** Set when the tool is a sub-agent: a call starts a child run of `subAgents[name]`. */
  subAgent?: string;
  /** Set when the tool comes from an MCP server: the server's name and the tool's name there. */
  mcp?: { server: string; tool: string };
  /**
   * Set when calling the tool changes nothing anywhere (`defineTool`'s `readOnly`): a step
   * whose calls are all to such tools runs them as local activities, and one may run again
   * after a crash. @default absent: the tool changes something, and is an activity
   */
  readOnly?: true;
}

/**
 * What an MCP server runs, as the worker knows it: a program to start or a URL to call. Lives
 * in the worker's configuration only; never in a spec, so workflow input cannot choose it.
 */
export type McpServerConfig =
  | {
      transport: 'stdio';
      /** Program to start, e.g. `node` or `npx`. */
      command: string;
      /** @default [] */
      args?: string[];
      /** @default the worker's working directory */
      cwd?: string;
    }
  | {
      transport: 'http';
      /** Streamable HTTP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
      url: string;
    };

/** An MCP server as a spec names it: the worker resolves the name in its own configuration. */
export interface McpServerRef {
  /** Short name; tool names the model sees are `<name>_<tool>`. */
  name: string;
  /** Only these tools, by their name on the server. @default every tool the server lists */
  tools?: string[];
  /** Start-to-close timeout of one call. @default '1 minute' */
  timeout?: Duration;
  /** @default { maximumAttempts: 3 } */
  retry?: RetrySpec;
  /** Whether a person must approve each call to this server's tools. @default false */
  approval?: boolean;
}

/** An MCP server as an agent definition lists it (worker side): what runs, and how the spec names it. */
export type McpServerSpec = McpServerConfig & McpServerRef;

/** Who may approve, as a spec carries it: people only (groups already expanded). */
export interface ApprovalPolicySpec {
  /** Slack user ids or email addresses. Empty: the conversation's approvers, then the people who asked. */
  approvers: string[];
  /** The approver may not be one of the people whose messages the turn answers. @default false */
  notRequester?: boolean;
}

/** Tool calls one model step may make; calls past it do not run (`TooManyToolCalls`). */
export const MAX_TOOL_CALLS_PER_STEP = 16;

export interface AgentLimits {
  /** Model calls in one run. @default 10 */
  maxSteps: number;
  /** Total tokens (prompt + output) in one run. @default 200_000 */
  maxTokens: number;
  /** Wall time of one run. @default '10 minutes' */
  maxDuration: Duration;
  /** Tool calls run from one model step; the model is told about the rest. @default MAX_TOOL_CALLS_PER_STEP (16) */
  maxToolCallsPerStep?: number;
}

/** An agent compiled to data: what a workflow receives once per run. */
export interface AgentSpec {
  name: string;
  /** Gemini model id, e.g. `gemini-3.5-flash` (core/models.ts). */
  model: string;
  /** Gemini 3's `thinkingLevel`. @default the model's own */
  thinkingLevel?: 'minimal' | 'low' | 'medium' | 'high';
  /** `functionCallingConfig.mode`. @default 'AUTO' */
  functionCallingMode?: 'AUTO' | 'ANY' | 'NONE' | 'VALIDATED';
  instructions: string;
  tools: ToolSpec[];
  limits: AgentLimits;
  /** Spending caps in US dollars. @default none */
  budget?: BudgetSpec;
  /** Agents this one calls as tools (the tools with `subAgent` set), compiled down to `MAX_AGENT_DEPTH`. */
  subAgents?: AgentSpec[];
  /** MCP servers whose tools are listed at the start of each run, by name (the worker knows what they run). */
  mcpServers?: McpServerRef[];
  /** Approval timeout of this agent's tools that set none. @default the conversation's */
  approvalTimeout?: Duration;
  /** Who may approve this agent's calls, when a tool names no one. @default the conversation's approvers, then the people who asked */
  approvalPolicy?: ApprovalPolicySpec;
}

/** How deep agent runs nest: a run at this depth calls no sub-agents. */
export const MAX_AGENT_DEPTH = 3;

/** Time a person has to decide when neither tool, agent nor conversation says. */
export const DEFAULT_APPROVAL_TIMEOUT: Duration = '1 hour';

/** The subset of Gemini's `Content` this system stores and passes around. */
export interface Content {
  role: 'user' | 'model';
  parts: Part[];
}

export interface FunctionCall {
  id?: string;
  name: string;
  args?: Record<string, unknown>;
}

export interface FunctionResponse {
  id?: string;
  name: string;
  response: Record<string, unknown>;
}

export interface Part {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  functionCall?: FunctionCall;
  functionResponse?: FunctionResponse;
}

export interface TokenUsage {
  /** Every input token, cached ones included. */
  promptTokens: number;
  /** Answer and thinking tokens. */
  outputTokens: number;
  totalTokens: number;
  /** Of `promptTokens`, those Gemini served from its cache (billed at the cached rate). */
  cachedTokens?: number;
  /** Of `outputTokens`, thinking. */
  thoughtsTokens?: number;
  /** What the calls cost, in US dollars, at the prices of core/models.ts when they ran. */
  cost?: number;
}

export const ZERO_USAGE: TokenUsage = { promptTokens: 0, outputTokens: 0, totalTokens: 0 };

/** Sums two usages; the optional counts appear once either side has them (runs recorded before them had none). */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  const optional = (key: 'cachedTokens' | 'thoughtsTokens' | 'cost') =>
    a[key] === undefined && b[key] === undefined ? {} : { [key]: Math.round(((a[key] ?? 0) + (b[key] ?? 0)) * 1_000_000) / 1_000_000 };
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    ...optional('cachedTokens'),
    ...optional('thoughtsTokens'),
    ...optional('cost'),
  };
}

/** A stored message or blob: `sha256:<hex>` (see store/message-ref.ts). */
export type MessageRef = string;

/** A tool call as the workflow schedules it: arguments inline when small, by reference when not. */
export interface PlannedCall {
  id?: string;
  name: string;
  args?: Record<string, unknown>;
  argsRef?: MessageRef;
}

/** What a tool activity returns: where its result is stored, and a line for progress. */
export interface ToolResultRef {
  id?: string;
  name: string;
  ok: boolean;
  /** The whole outcome (a `ToolOutcome`), stored; absent when the activity itself failed. */
  resultRef?: MessageRef;
  /** Set, inline, when the activity failed for good: the workflow tells the model. */
  error?: { type: string; message: string };
  /** Set, inline, when the workflow itself produced the result (a sub-agent's answer). */
  result?: unknown;
  /** A short excerpt for live progress; never what the model reads. */
  excerpt: string;
  /** Size of the stored outcome's JSON. */
  bytes: number;
}

/** What a tool produced: a result, or an error the model can read and correct. */
export type ToolOutcome = { ok: true; result: unknown } | { ok: false; error: { type: string; message: string } };

export function functionCalls(content: Content): FunctionCall[] {
  return content.parts.flatMap((part) => (part.functionCall ? [part.functionCall] : []));
}

export function textOf(content: Content): string {
  return content.parts
    .filter((part) => part.text !== undefined && !part.thought)
    .map((part) => part.text)
    .join('');
}
