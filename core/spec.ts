/**
 * The wire shapes shared by workflows, activities and clients. Pure types and pure
 * functions only: workflows import this module, so it must stay deterministic.
 */

/** A duration as Temporal reads it: `'30 seconds'`, `'5 minutes'`, or milliseconds. */
export type Duration = string | number;

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
}

export interface AgentLimits {
  /** Model calls in one run. @default 10 */
  maxSteps: number;
  /** Total tokens (prompt + output) in one run. @default 200_000 */
  maxTokens: number;
  /** Wall time of one run. @default '10 minutes' */
  maxDuration: Duration;
}

/** An agent compiled to data: what a workflow receives once per run. */
export interface AgentSpec {
  name: string;
  /** Gemini model id, e.g. `gemini-2.5-flash`. */
  model: string;
  instructions: string;
  tools: ToolSpec[];
  limits: AgentLimits;
}

/** Activity type of a tool. A wire contract: never renamed in place. */
export function toolActivityType(toolName: string): string {
  return `tool:${toolName}`;
}

export const MODEL_ACTIVITY = 'callModel';

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
  promptTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export const ZERO_USAGE: TokenUsage = { promptTokens: 0, outputTokens: 0, totalTokens: 0 };

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
}

export interface ModelCallInput {
  model: string;
  instructions: string;
  tools: Pick<ToolSpec, 'name' | 'description' | 'parameters'>[];
  contents: Content[];
}

export interface ModelCallResult {
  content: Content;
  usage: TokenUsage;
  finishReason?: string;
}

/** What a tool activity returns: a result, or an error the model can read and correct. */
export type ToolOutcome =
  | { ok: true; result: unknown }
  | { ok: false; error: { type: string; message: string } };

export function functionCalls(content: Content): FunctionCall[] {
  return content.parts.flatMap((part) => (part.functionCall ? [part.functionCall] : []));
}

export function textOf(content: Content): string {
  return content.parts
    .filter((part) => part.text !== undefined && !part.thought)
    .map((part) => part.text)
    .join('');
}
