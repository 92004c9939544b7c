import {
  MAX_AGENT_DEPTH,
  type AgentLimits,
  type AgentSpec,
  type Duration,
  type McpServerRef,
  type McpServerSpec,
  type ToolSpec,
} from '../core/spec.ts';
import { approvalPolicyField } from '../core/approval-policy.ts';
import { compileTool, TOOL_NAME_PATTERN, type ApproverGroups, type ToolDefinition } from './define-tool.ts';
import type { AmbientCheck } from '../core/ambient.ts';
import { MAX_SUGGESTED_PROMPTS, suggestedPromptsSchema, type SuggestedPrompt } from './suggested-prompts.ts';
import { validateTriggers, type TriggerOptions, type TriggerSpec } from '../core/triggers.ts';
import type { BudgetSpec } from '../core/budgets.ts';
import {
  DEFAULT_MODEL,
  FUNCTION_CALLING_MODES,
  modelInfo,
  modelRefusal,
  THINKING_LEVELS,
  type FunctionCallingMode,
  type ThinkingLevel,
} from '../core/models.ts';

export { DEFAULT_MODEL };

export interface AgentOptions {
  /** Unique name; also the routing key for triggers. */
  name: string;
  /** Gemini model id; one shut down is refused, naming its replacement (see core/models.ts). @default DEFAULT_MODEL ('gemini-3.5-flash') */
  model?: string;
  /** How much Gemini 3 thinks before it answers (`thinkingConfig.thinkingLevel`); no thinking budget is ever sent. @default the model's own ('medium' on gemini-3.5-flash) */
  thinkingLevel?: ThinkingLevel;
  /** Whether the model may, must or must not call tools (`functionCallingConfig.mode`). @default 'AUTO' */
  functionCallingMode?: FunctionCallingMode;
  /**
   * Spending caps in US dollars, checked before each model call: per run (one turn), per person
   * per UTC day, per agent per UTC day. Past one, the person is told which and when it resets, and
   * the run ends with stop reason `budget`. @default none
   */
  budget?: BudgetSpec;
  /** System instructions. */
  instructions: string;
  /** @default [] */
  tools?: ToolDefinition[];
  /** @default { maxSteps: 10, maxTokens: 200_000, maxDuration: '10 minutes' } */
  limits?: Partial<AgentLimits>;
  /** What the agent does, for a parent agent that calls it as a tool. @default the first sentence of `instructions` */
  description?: string;
  /**
   * Agents this one may call as tools (by their names, with one `task` argument); each call is
   * a child run whose budget is the smaller of its own and what is left of this one's. @default []
   */
  subAgents?: AgentDefinition[];
  /** MCP servers whose tools this agent may call; listed at the start of every run. @default [] */
  mcpServers?: McpServerSpec[];
  /** Approval timeout of this agent's tools that set none. @default the conversation's ('1 hour') */
  approvalTimeout?: Duration;
  /**
   * Who may approve this agent's calls when a tool names no one: people (Slack user ids, email
   * addresses) or names of `approverGroups`. @default the conversation's approvers, then the people who asked
   */
  approvers?: string[];
  /** The approver may not be one of the people whose messages the turn answers. @default false */
  notRequester?: boolean;
  /** Named groups of people that `approvers` (the agent's and its tools') may name, e.g. `{ finance: ['U123', 'ana@example.com'] }`. @default {} */
  approverGroups?: Record<string, string[]>;
  /**
   * When the agent runs with nobody asking: one Temporal Schedule each (`npm run schedules -- sync`).
   * Validated here: cron syntax, time zone, interval length, daylight-saving gaps. @default []
   */
  triggers?: TriggerOptions[];
  /**
   * Runs in the worker before an ambient run's first model call: quiet ends the run with
   * nothing posted and no model call; otherwise it may hand on a cursor and add what changed
   * to the prompt. @default none (every ambient run asks the model)
   */
  check?: AmbientCheck;
  /**
   * What Slack suggests asking when a person opens this agent's assistant thread (at most 4);
   * the Slack edge sets them on each new thread. @default [] (the manifest's own prompts show)
   */
  suggestedPrompts?: SuggestedPrompt[];
}

export interface AgentDefinition extends Required<
  Omit<
    AgentOptions,
    | 'limits'
    | 'description'
    | 'approvalTimeout'
    | 'triggers'
    | 'check'
    | 'approvers'
    | 'notRequester'
    | 'approverGroups'
    | 'suggestedPrompts'
    | 'thinkingLevel'
    | 'functionCallingMode'
    | 'budget'
  >
> {
  readonly kind: 'agent';
  limits: AgentLimits;
  triggers: TriggerSpec[];
  description: string;
  approvalTimeout?: Duration;
  check?: AmbientCheck;
  approvers?: string[];
  notRequester?: boolean;
  approverGroups?: Record<string, string[]>;
  suggestedPrompts: SuggestedPrompt[];
  thinkingLevel?: ThinkingLevel;
  functionCallingMode?: FunctionCallingMode;
  budget?: BudgetSpec;
}

export const DEFAULT_LIMITS: AgentLimits = { maxSteps: 10, maxTokens: 200_000, maxDuration: '10 minutes' };

/** The one argument of an agent called as a tool. */
export const SUB_AGENT_PARAMETERS = {
  type: 'object',
  properties: {
    task: {
      type: 'string',
      description: 'What the agent should do, with every detail it needs: it sees nothing else of this conversation.',
    },
  },
  required: ['task'],
} as const;

export function defineAgent(options: AgentOptions): AgentDefinition {
  const tools = options.tools ?? [];
  const subAgents = options.subAgents ?? [];
  const mcpServers = options.mcpServers ?? [];
  const seen = new Set<string>();
  for (const name of [...tools.map((tool) => tool.name), ...subAgents.map((agent) => agent.name)]) {
    if (seen.has(name)) throw new TypeError(`Agent "${options.name}" lists tool "${name}" twice.`);
    seen.add(name);
  }
  for (const agent of subAgents) {
    if (!TOOL_NAME_PATTERN.test(agent.name)) {
      throw new TypeError(
        `Agent "${options.name}": sub-agent "${agent.name}" is called as a tool, so its name must match ${TOOL_NAME_PATTERN}.`,
      );
    }
  }
  const servers = new Set<string>();
  for (const server of mcpServers) {
    if (!/^[a-zA-Z][a-zA-Z0-9-]{0,23}$/.test(server.name)) {
      throw new TypeError(
        `Agent "${options.name}": MCP server name "${server.name}" must be 1-24 letters, digits or dashes, starting with a letter.`,
      );
    }
    if (servers.has(server.name)) throw new TypeError(`Agent "${options.name}" lists MCP server "${server.name}" twice.`);
    servers.add(server.name);
  }
  const model = options.model ?? DEFAULT_MODEL;
  validateModelOptions(options.name, model, options);
  const triggers = validateTriggers(options.name, options.triggers ?? []);
  const prompts = suggestedPromptsSchema.safeParse(options.suggestedPrompts ?? []);
  if (!prompts.success) {
    throw new TypeError(
      `Agent "${options.name}": suggestedPrompts must be at most ${MAX_SUGGESTED_PROMPTS}, each a title (≤ 75 characters) and a message.`,
    );
  }
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (!Number.isInteger(limits.maxSteps) || limits.maxSteps < 1) {
    throw new TypeError(`Agent "${options.name}": limits.maxSteps must be a positive integer.`);
  }
  if (limits.maxToolCallsPerStep !== undefined && (!Number.isInteger(limits.maxToolCallsPerStep) || limits.maxToolCallsPerStep < 1)) {
    throw new TypeError(`Agent "${options.name}": limits.maxToolCallsPerStep must be a positive integer.`);
  }
  for (const [group, members] of Object.entries(options.approverGroups ?? {})) {
    if (members.length === 0) throw new TypeError(`Agent "${options.name}": approver group "${group}" has no members.`);
  }
  return {
    kind: 'agent',
    name: options.name,
    model,
    instructions: options.instructions,
    description: options.description ?? firstSentence(options.instructions),
    tools,
    limits,
    subAgents,
    mcpServers,
    triggers,
    suggestedPrompts: prompts.data,
    ...(options.approvalTimeout === undefined ? {} : { approvalTimeout: options.approvalTimeout }),
    ...(options.check ? { check: options.check } : {}),
    ...(options.approvers ? { approvers: options.approvers } : {}),
    ...(options.notRequester === undefined ? {} : { notRequester: options.notRequester }),
    ...(options.approverGroups ? { approverGroups: options.approverGroups } : {}),
    ...(options.thinkingLevel ? { thinkingLevel: options.thinkingLevel } : {}),
    ...(options.functionCallingMode ? { functionCallingMode: options.functionCallingMode } : {}),
    ...(options.budget ? { budget: validBudget(options.name, options.budget) } : {}),
  };
}

function validBudget(agent: string, budget: BudgetSpec): BudgetSpec {
  for (const [name, value] of Object.entries(budget)) {
    if (!['perRun', 'perPersonPerDay', 'perAgentPerDay'].includes(name))
      throw new TypeError(`Agent "${agent}": budget.${name} is not a cap; use perRun, perPersonPerDay or perAgentPerDay.`);
    if (typeof value !== 'number' || !(value > 0))
      throw new TypeError(`Agent "${agent}": budget.${name} must be a positive amount of US dollars.`);
  }
  return { ...budget };
}

/** A shut-down model, an unknown thinking level or calling mode, or a level on a model that thinks by budget: refused here, not at the first call. */
function validateModelOptions(agent: string, model: string, options: AgentOptions): void {
  const refusal = modelRefusal(
    model,
    Date.now(),
    `the "model" of agent "${agent}"${options.model === undefined ? ' (its default comes from core/models.ts)' : ''}`,
  );
  if (refusal) throw new TypeError(`Agent "${agent}": ${refusal}`);
  if (options.thinkingLevel !== undefined) {
    if (!THINKING_LEVELS.includes(options.thinkingLevel))
      throw new TypeError(`Agent "${agent}": thinkingLevel must be one of ${THINKING_LEVELS.join(', ')}.`);
    if (modelInfo(model)?.thinking === 'budget') {
      throw new TypeError(
        `Agent "${agent}": model "${model}" takes no thinkingLevel (it predates Gemini 3); leave thinkingLevel out or use a Gemini 3 model.`,
      );
    }
  }
  if (options.functionCallingMode !== undefined && !FUNCTION_CALLING_MODES.includes(options.functionCallingMode)) {
    throw new TypeError(`Agent "${agent}": functionCallingMode must be one of ${FUNCTION_CALLING_MODES.join(', ')}.`);
  }
}

/** The pure-JSON form a workflow receives: tool declarations as JSON Schema, no handlers. */
export function compileAgent(
  agent: AgentDefinition,
  overrides: { model?: string } = {},
  depth = 0,
  inheritedGroups: ApproverGroups = {},
): AgentSpec {
  // A sub-agent sees its parent's groups, its own taking precedence.
  const groups: ApproverGroups = { ...inheritedGroups, ...agent.approverGroups };
  // Below the deepest level a run may start, sub-agents are left out: the model never sees them.
  const subAgents = depth < MAX_AGENT_DEPTH ? (agent.subAgents ?? []) : [];
  const subAgentTools: ToolSpec[] = subAgents.map((subAgent) => ({
    name: subAgent.name,
    description: subAgent.description,
    parameters: { ...SUB_AGENT_PARAMETERS },
    timeout: subAgent.limits.maxDuration,
    retry: { maximumAttempts: 1 },
    approval: 'never',
    subAgent: subAgent.name,
  }));
  return {
    name: agent.name,
    model: overrides.model ?? agent.model,
    instructions: agent.instructions,
    tools: [...agent.tools.map((tool) => compileTool(tool, groups)), ...subAgentTools],
    limits: agent.limits,
    ...(agent.thinkingLevel ? { thinkingLevel: agent.thinkingLevel } : {}),
    ...(agent.functionCallingMode ? { functionCallingMode: agent.functionCallingMode } : {}),
    ...(agent.budget ? { budget: agent.budget } : {}),
    ...(subAgents.length ? { subAgents: subAgents.map((subAgent) => compileAgent(subAgent, overrides, depth + 1, groups)) } : {}),
    // By name only: what a server runs stays in the worker (see `mcpServersOf`).
    ...(agent.mcpServers?.length ? { mcpServers: agent.mcpServers.map(mcpServerRef) } : {}),
    ...(agent.approvalTimeout === undefined ? {} : { approvalTimeout: agent.approvalTimeout }),
    ...approvalPolicyField(agent, groups),
  };
}

/** Every tool of these agents and of their sub-agents, once each: what a worker registers. */
export function toolsOf(agents: Iterable<AgentDefinition>): ToolDefinition[] {
  const tools = new Map<string, ToolDefinition>();
  const visited = new Set<AgentDefinition>();
  const visit = (agent: AgentDefinition) => {
    if (visited.has(agent)) return;
    visited.add(agent);
    for (const tool of agent.tools) if (!tools.has(tool.name)) tools.set(tool.name, tool);
    for (const subAgent of agent.subAgents ?? []) visit(subAgent);
  };
  for (const agent of agents) visit(agent);
  return [...tools.values()];
}

function mcpServerRef(server: McpServerSpec): McpServerRef {
  return {
    name: server.name,
    ...(server.tools ? { tools: server.tools } : {}),
    ...(server.timeout === undefined ? {} : { timeout: server.timeout }),
    ...(server.retry ? { retry: server.retry } : {}),
    ...(server.approval === undefined ? {} : { approval: server.approval }),
  };
}

/**
 * Every MCP server of these agents and of their sub-agents, by name: what a worker may run.
 * Two agents that give one name different programs are a mistake the worker refuses to start with.
 */
export function mcpServersOf(agents: Iterable<AgentDefinition>): Record<string, McpServerSpec> {
  const servers: Record<string, McpServerSpec> = {};
  const visited = new Set<AgentDefinition>();
  const visit = (agent: AgentDefinition) => {
    if (visited.has(agent)) return;
    visited.add(agent);
    for (const server of agent.mcpServers ?? []) {
      const known = servers[server.name];
      if (known && JSON.stringify(runsOf(known)) !== JSON.stringify(runsOf(server))) {
        throw new TypeError(`MCP server "${server.name}" is defined twice with different programs or URLs (agent "${agent.name}").`);
      }
      servers[server.name] ??= server;
    }
    for (const subAgent of agent.subAgents ?? []) visit(subAgent);
  };
  for (const agent of agents) visit(agent);
  return servers;
}

function runsOf(server: McpServerSpec): unknown[] {
  return server.transport === 'stdio'
    ? [server.transport, server.command, server.args ?? [], server.cwd ?? '']
    : [server.transport, server.url];
}

function firstSentence(text: string): string {
  const sentence = /^[^\n.!?]*[.!?]?/.exec(text.trim())?.[0] ?? text;
  return sentence.slice(0, 500);
}
