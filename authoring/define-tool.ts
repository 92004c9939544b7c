import * as z from 'zod';
import { approvalPolicyField } from '../core/approval-policy.ts';
import type { ToolConversation } from '../core/contracts/tools.ts';
import type { Duration, RetrySpec, ToolSpec } from '../core/spec.ts';

/** What a tool handler receives besides its arguments. */
export interface ToolContext {
  /** Aborted when the run is cancelled or the activity times out: pass it to every HTTP call. */
  signal: AbortSignal;
  /** Records liveness (and optional progress) for long tools. */
  heartbeat(details?: unknown): void;
  /**
   * Who asked and where, from the workflow (trusted; the model cannot set it). @default absent
   * when the run answers no conversation
   */
  conversation?: ToolConversation;
  /**
   * The same for every attempt of this call and different for any other call: key a side
   * effect by it so a retry does not repeat it. @default set whenever the tool runs as an activity
   */
  idempotencyKey?: string;
}

export interface ToolOptions<Schema extends z.ZodObject> {
  /** Wire name: the model calls the tool by it. Never rename in place. */
  name: string;
  /** What the tool does, for the model. */
  description: string;
  /** Arguments; give every field a `.describe()`. */
  input: Schema;
  handler(args: z.infer<Schema>, context: ToolContext): Promise<unknown> | unknown;
  /** Start-to-close timeout of one attempt. @default '1 minute' */
  timeout?: Duration;
  /** Set for tools that run long and call `context.heartbeat()`. @default undefined */
  heartbeatTimeout?: Duration;
  /** @default { maximumAttempts: 3 } */
  retry?: RetrySpec;
  /**
   * Whether a person must approve a call before it runs: `true`, or a predicate on the
   * arguments (evaluated in the worker). @default false
   */
  approval?: boolean | ((args: z.infer<Schema>) => boolean);
  /** How long a person has to decide; no decision by then means denied. @default the agent's, then the conversation's */
  approvalTimeout?: Duration;
  /**
   * Who may approve: people (Slack user ids, email addresses) or names of the agent's
   * `approverGroups`. @default the agent's `approvers`, then the conversation's, then the people who asked
   */
  approvers?: string[];
  /** The approver may not be one of the people whose messages the turn answers. @default the agent's (false) */
  notRequester?: boolean;
  /**
   * The tool only reads: calling it changes nothing anywhere. An eval may run such a tool for
   * real when its case allows it; any other tool never runs in an eval. @default false
   */
  readOnly?: boolean;
}

export interface ToolDefinition<Schema extends z.ZodObject = z.ZodObject> extends ToolOptions<Schema> {
  readonly kind: 'tool';
}

const TOOL_NAME = /^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$/;

/** Tool names as Gemini accepts them; agents called as tools follow the same rule. */
export const TOOL_NAME_PATTERN = TOOL_NAME;

export function defineTool<Schema extends z.ZodObject>(options: ToolOptions<Schema>): ToolDefinition<Schema> {
  if (!TOOL_NAME.test(options.name)) {
    throw new TypeError(`Tool name "${options.name}" must match ${TOOL_NAME} (Gemini function-name rules).`);
  }
  for (const [field, schema] of Object.entries(options.input.shape)) {
    if (!(schema as z.ZodType).description) {
      throw new TypeError(`Tool "${options.name}": field "${field}" needs .describe() so the model knows what it is.`);
    }
  }
  return { kind: 'tool', ...options };
}

/** Approver groups of an agent: a name and the people in it. */
export type ApproverGroups = Readonly<Record<string, readonly string[]>>;

export function compileTool(tool: ToolDefinition, groups: ApproverGroups = {}): ToolSpec {
  const parameters = z.toJSONSchema(tool.input, { target: 'draft-2020-12' }) as Record<string, unknown>;
  delete parameters.$schema;
  return {
    name: tool.name,
    description: tool.description,
    parameters,
    timeout: tool.timeout ?? '1 minute',
    ...(tool.heartbeatTimeout === undefined ? {} : { heartbeatTimeout: tool.heartbeatTimeout }),
    retry: tool.retry ?? { maximumAttempts: 3 },
    approval: tool.approval === undefined || tool.approval === false ? 'never' : tool.approval === true ? 'always' : 'predicate',
    ...(tool.readOnly === true ? { readOnly: true as const } : {}),
    ...(tool.approvalTimeout === undefined ? {} : { approvalTimeout: tool.approvalTimeout }),
    ...approvalPolicyField(tool, groups),
  };
}

/** Whether the worker's own definition of a tool wants a person to approve a call with these (already parsed) arguments. */
export function definitionNeedsApproval(tool: ToolDefinition, args: unknown): boolean {
  if (typeof tool.approval !== 'function') return tool.approval === true;
  try {
    return Boolean(tool.approval(args as never));
  } catch {
    return true;
  }
}

/**
 * Thrown by a handler when the arguments are well-formed but unusable ("no such time zone"):
 * the model gets the message and can try again; the activity is not retried.
 */
export class ToolInputError extends Error {
  readonly type: string;
  constructor(message: string, type = 'ToolInputError') {
    super(message);
    this.name = 'ToolInputError';
    this.type = type;
  }
}
