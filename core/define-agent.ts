import type { AgentLimits, AgentSpec } from './spec.ts';
import { compileTool, type ToolDefinition } from './define-tool.ts';

export interface AgentOptions {
  /** Unique name; also the routing key for triggers. */
  name: string;
  /** Gemini model id. @default 'gemini-2.5-flash' */
  model?: string;
  /** System instructions. */
  instructions: string;
  /** @default [] */
  tools?: ToolDefinition[];
  /** @default { maxSteps: 10, maxTokens: 200_000, maxDuration: '10 minutes' } */
  limits?: Partial<AgentLimits>;
}

export interface AgentDefinition extends Required<Omit<AgentOptions, 'limits'>> {
  readonly kind: 'agent';
  limits: AgentLimits;
}

export const DEFAULT_MODEL = 'gemini-2.5-flash';

export const DEFAULT_LIMITS: AgentLimits = { maxSteps: 10, maxTokens: 200_000, maxDuration: '10 minutes' };

export function defineAgent(options: AgentOptions): AgentDefinition {
  const tools = options.tools ?? [];
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.name)) throw new TypeError(`Agent "${options.name}" lists tool "${tool.name}" twice.`);
    seen.add(tool.name);
  }
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (!Number.isInteger(limits.maxSteps) || limits.maxSteps < 1) {
    throw new TypeError(`Agent "${options.name}": limits.maxSteps must be a positive integer.`);
  }
  return {
    kind: 'agent',
    name: options.name,
    model: options.model ?? DEFAULT_MODEL,
    instructions: options.instructions,
    tools,
    limits,
  };
}

/** The pure-JSON form a workflow receives: tool declarations as JSON Schema, no handlers. */
export function compileAgent(agent: AgentDefinition, overrides: { model?: string } = {}): AgentSpec {
  return {
    name: agent.name,
    model: overrides.model ?? agent.model,
    instructions: agent.instructions,
    tools: agent.tools.map(compileTool),
    limits: agent.limits,
  };
}
