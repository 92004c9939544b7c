import { readFileSync } from 'node:fs';
import * as z from 'zod';

/**
 * An eval case: one recorded (or hand-written) turn of an agent, what the recording says
 * happened, and what a run of it must show. JSON only: no YAML parser is among the
 * project's dependencies, and a case is written by `npm run eval -- export` anyway.
 */

const json: z.ZodType<unknown> = z.unknown();

const contentSchema = z.object({
  role: z.enum(['user', 'model']),
  parts: z.array(z.record(z.string(), json)).min(1, 'a message needs at least one part'),
});

const outcomeSchema = z.union([
  z.object({ ok: z.literal(true), result: json }),
  z.object({ ok: z.literal(false), error: z.object({ type: z.string(), message: z.string() }) }),
]);

/** One tool call of the recorded turn, with what it returned then. */
const recordedCallSchema = z.object({
  tool: z.string().min(1),
  args: z.record(z.string(), json).default({}),
  outcome: outcomeSchema,
});

const argsMatcherSchema = z
  .object({
    tool: z.string().min(1),
    /** The call's arguments are exactly these (canonical JSON). */
    equals: z.record(z.string(), json).optional(),
    /** Each named argument has this value; others may be anything. */
    includes: z.record(z.string(), json).optional(),
    /** Each named argument, as text, matches this regular expression (case-insensitive). */
    matches: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const answerSchema = z
  .object({
    contains: z.array(z.string()).optional(),
    /** Regular expressions (case-insensitive). */
    matches: z.array(z.string()).optional(),
    notContains: z.array(z.string()).optional(),
  })
  .strict();

export const expectationsSchema = z
  .object({
    /** Tools the run must call (each at least once). */
    toolsCalled: z.array(z.string()).optional(),
    /** Tools the run must never call. */
    toolsNotCalled: z.array(z.string()).optional(),
    /** Calls whose arguments must match: at least one call of `tool` matches all of it. */
    args: z.array(argsMatcherSchema).optional(),
    /** Tools whose call asks a person to approve it. */
    approvals: z.array(z.string()).optional(),
    answer: answerSchema.optional(),
    /** Most model calls (the run's steps, sub-agents' included). */
    maxSteps: z.number().int().positive().optional(),
    /** Most tokens. */
    maxTokens: z.number().int().positive().optional(),
    /** Most cost in US dollars; checked when the run reports a cost, "not recorded" otherwise. */
    maxCost: z.number().nonnegative().optional(),
    /** What a judge model checks the answer against (needs a judge: GOOGLE_API_KEY or `--judge-url`). */
    rubric: z.string().min(1).optional(),
  })
  .strict();

export const evalCaseSchema = z
  .object({
    version: z.literal(1),
    /** Unique within its agent's folder; file names follow it. */
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'an id is 1-100 lowercase letters, digits, dots, dashes or underscores'),
    agent: z.string().min(1),
    description: z.string().optional(),
    /** Where it was recorded: ids only. */
    source: z
      .object({ conversationId: z.string().optional(), runWorkflowId: z.string().optional(), exportedAt: z.string().optional() })
      .strict()
      .optional(),
    /** Earlier turns of the conversation, oldest first, as the model saw them. @default [] */
    context: z.array(contentSchema).default([]),
    /** What the person said in this turn: the run's prompt. */
    prompt: z.string().min(1),
    /** What the recorded run did; its tool results answer the same calls in the eval. */
    recorded: z
      .object({
        toolCalls: z.array(recordedCallSchema).default([]),
        answer: z.string().optional(),
        steps: z.number().int().nonnegative().optional(),
        usage: z.object({ promptTokens: z.number(), outputTokens: z.number(), totalTokens: z.number() }).optional(),
        cost: z.number().nonnegative().optional(),
      })
      .strict()
      .default({ toolCalls: [] }),
    /**
     * Read-only tools that may run for real when a call has no recording: `true` for all of
     * them, or their names. Tools that change something never run. @default false
     */
    liveTools: z.union([z.boolean(), z.array(z.string())]).default(false),
    expect: expectationsSchema.default({}),
  })
  .strict();

export type EvalCase = z.infer<typeof evalCaseSchema>;
export type EvalCaseInput = z.input<typeof evalCaseSchema>;
export type Expectations = z.infer<typeof expectationsSchema>;
export type RecordedCall = z.infer<typeof recordedCallSchema>;

/** A case file that is not a valid case; the message names the file and each bad field. */
export class CaseFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaseFileError';
  }
}

/** Validates a parsed case; every bad field is named by its path (`expect.maxSteps: …`). */
export function parseCase(value: unknown, where: string): EvalCase {
  const parsed = evalCaseSchema.safeParse(value);
  if (parsed.success) {
    for (const [name, pattern] of regexesOf(parsed.data)) {
      try {
        new RegExp(pattern, 'i');
      } catch (error) {
        throw new CaseFileError(`${where}: ${name}: not a regular expression (${(error as Error).message})`);
      }
    }
    return parsed.data;
  }
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.length ? issue.path.join('.') : '(the case)'}: ${issue.message}`);
  throw new CaseFileError(`${where} is not a valid eval case:\n${lines.join('\n')}`);
}

export function readCaseFile(path: string): EvalCase {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CaseFileError(`${path}: ${(error as Error).message}`);
  }
  return parseCase(value, path);
}

function regexesOf(evalCase: EvalCase): [string, string][] {
  const found: [string, string][] = (evalCase.expect.answer?.matches ?? []).map((pattern, index) => [
    `expect.answer.matches.${index}`,
    pattern,
  ]);
  for (const [index, matcher] of (evalCase.expect.args ?? []).entries()) {
    for (const [name, pattern] of Object.entries(matcher.matches ?? {})) found.push([`expect.args.${index}.matches.${name}`, pattern]);
  }
  return found;
}
