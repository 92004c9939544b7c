import { AsyncLocalStorage } from 'node:async_hooks';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FunctionCallingConfigMode, GoogleGenAI, ThinkingLevel, type GenerateContentResponse } from '@google/genai';
import { callCost, modelInfo } from '../../core/models.ts';
import { RUN_TIME_LIMIT, type ModelActivities, type ModelStepResult } from '../../core/contracts/model.ts';
import {
  functionCalls,
  textOf,
  type AgentSpec,
  type Content,
  type Part,
  type PlannedCall,
  type ToolOutcome,
  type ToolResultRef,
} from '../../core/spec.ts';
import { boundResult } from '../../store/excerpt.ts';
import type { TranscriptStore } from '../../store/transcript-store.ts';
import { classifyModelError, ModelErrorType } from '../model-errors.ts';
import { createBudgetLedger, type BudgetLedger, type DailyCap } from '../../store/budget-ledger.ts';
import type { AnswerStream, AnswerStreams, StreamResume } from '../replies/answer-stream.ts';
import { appendMessages, loadContext } from '../../store/transcript-chain.ts';
import { startHeartbeats } from './heartbeat.ts';

export interface ModelActivityDeps {
  apiKey: string;
  /** Gemini API base URL. @default 'https://generativelanguage.googleapis.com' */
  baseUrl?: string;
  store: TranscriptStore;
  /** Where steps with a `stream` target send the answer as it is written. @default none: every answer is posted whole by the reply step */
  answerStreams?: AnswerStreams;
  /** The shared daily spending counters agents' `budget` caps are checked against. @default in memory: enough for one process */
  budgets?: BudgetLedger;
}

/** Most bytes of transcript JSON sent to the model per call. */
const CONTEXT_BYTES = 400_000;
/** A tool result larger than this is shown to the model as a bounded excerpt. */
const TOOL_RESULT_BYTES = 32_768;
/** Function-call arguments larger than this travel by reference. */
const MAX_INLINE_ARGS_BYTES = 4_096;
/** Answers larger than this are cut in the workflow's history; the whole text is stored. */
export const MAX_INLINE_TEXT_BYTES = 32_768;

/** The last response's headers, per call, so a 429's `Retry-After` reaches the classifier. */
const responseHeaders = new AsyncLocalStorage<{ headers?: Headers }>();

function recordingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  return fetch(input, init).then((response) => {
    const slot = responseHeaders.getStore();
    if (slot) slot.headers = response.headers;
    return response;
  });
}

export function createModelActivities(deps: ModelActivityDeps): ModelActivities {
  const { store } = deps;
  const budgets = deps.budgets ?? createBudgetLedger();
  const client = new GoogleGenAI({
    apiKey: deps.apiKey,
    httpOptions: {
      ...(deps.baseUrl ? { baseUrl: deps.baseUrl } : {}),
      // Temporal owns retries; a second retry layer would multiply attempts and hide 429s.
      retryOptions: { attempts: 1 },
      fetch: recordingFetch,
    },
  });

  async function generate(
    spec: AgentSpec,
    contents: Content[],
    stream?: AnswerStream,
    deadlineAt?: number,
  ): Promise<GenerateContentResponse> {
    const cancelled = activitySignal();
    // The run's time budget ends the call where it ends, whatever the activity's own timeouts.
    const outOfTime = deadlineAt === undefined ? undefined : AbortSignal.timeout(Math.max(1, deadlineAt - Date.now()));
    const abortSignal = cancelled && outOfTime ? AbortSignal.any([cancelled, outOfTime]) : (cancelled ?? outOfTime);
    const slot: { headers?: Headers } = {};
    // Cancellation reaches an activity through its heartbeats: beat while the call is open.
    // A streamed answer's message goes in the details, so a retry finishes it instead of starting another.
    const heartbeats = startHeartbeats(() => stream?.progress());
    const request = { model: spec.model, contents, config: { ...requestConfig(spec), abortSignal } };
    try {
      if (!stream) return await responseHeaders.run(slot, () => client.models.generateContent(request));
      return await responseHeaders.run(slot, async () => {
        const chunks: GenerateContentResponse[] = [];
        let started = false;
        for await (const chunk of await client.models.generateContentStream(request)) {
          chunks.push(chunk);
          const text = (chunk.candidates?.[0]?.content?.parts ?? [])
            .filter((part) => part.text && !part.thought)
            .map((part) => part.text)
            .join('');
          if (text) await stream.append(text);
          if (!started && stream.progress()) {
            started = true;
            heartbeats.beat();
          }
        }
        return mergeChunks(chunks);
      });
    } catch (error) {
      if (cancelled?.aborted) throw error;
      if (outOfTime?.aborted)
        throw ApplicationFailure.nonRetryable('The run reached its time limit during the model call.', RUN_TIME_LIMIT);
      const failure = classifyModelError(error, slot.headers?.get('retry-after'), spec.model);
      // A refused model is the operator's to fix: one line in the worker's log too, besides the person's reply.
      if ((failure as { type?: string }).type === ModelErrorType.ModelRefused) console.error(failure.message);
      throw failure;
    } finally {
      heartbeats.stop();
    }
  }

  async function toolResponses(results: ToolResultRef[]): Promise<Content> {
    const parts: Part[] = [];
    for (const result of results) {
      let response: Record<string, unknown>;
      if (result.resultRef) {
        const outcome = await store.get<ToolOutcome>(result.resultRef);
        response = outcome.ok ? { output: boundResult(outcome.result, TOOL_RESULT_BYTES, result.resultRef) } : { error: outcome.error };
      } else if (result.ok && result.result !== undefined) {
        response = { output: result.result };
      } else {
        response = { error: result.error ?? { type: 'ToolFailed', message: 'The tool failed.' } };
      }
      parts.push({ functionResponse: { ...(result.id ? { id: result.id } : {}), name: result.name, response } });
    }
    return { role: 'user', parts };
  }

  return {
    /** One model step: append the last tool results, call Gemini on the context, store the response. */
    async callModel(input) {
      const spec = await store.get<AgentSpec>(input.specRef);
      let head = input.head;
      if (input.toolResults?.length) head = await appendMessages(store, head, [await toolResponses(input.toolResults)]);
      const contents = await loadContext(store, head, { maxBytes: CONTEXT_BYTES });
      const caps = input.budget ? dailyCaps(spec, input.budget.person) : [];
      const callId = callIdOf();
      const admittedAt = Date.now();
      // A wait for calls in flight near a cap keeps the activity's heartbeat going.
      if (caps.length) await budgets.admit(callId, caps, admittedAt, heartbeatIfActivity);
      let settled = false;
      let answered: ReturnType<typeof toContent>;
      try {
        const stream = input.stream ? deps.answerStreams?.open(input.stream, resumeOf(activityHeartbeatDetails())) : undefined;
        answered = toContent(await generate(spec, contents, stream, input.deadlineAt), spec.model);
        await stream?.finish(functionCalls(answered.content).length === 0);
        if (caps.length) await budgets.settle(callId, caps, answered.usage.cost ?? 0, admittedAt);
        settled = true;
      } finally {
        // A failed call spent nothing: its admission closes so others near the cap may go.
        if (caps.length && !settled) await budgets.settle(callId, caps, 0, admittedAt).catch(() => undefined);
      }
      const { content, usage, finishReason } = answered;
      head = await appendMessages(store, head, [content]);

      const calls: PlannedCall[] = [];
      for (const call of functionCalls(content)) {
        const args = call.args ?? {};
        const planned: PlannedCall = { name: call.name, ...(call.id ? { id: call.id } : {}) };
        if (JSON.stringify(args).length > MAX_INLINE_ARGS_BYTES) planned.argsRef = await store.put(args);
        else planned.args = args;
        calls.push(planned);
      }
      const text = textOf(content);
      const cut = Buffer.byteLength(text) > MAX_INLINE_TEXT_BYTES;
      return {
        head,
        calls,
        text: cut ? `${Buffer.from(text).subarray(0, MAX_INLINE_TEXT_BYTES).toString('utf8')}…` : text,
        ...(cut ? { textRef: await store.put(text) } : {}),
        usage,
        ...(finishReason ? { finishReason } : {}),
      };
    },
  };
}

const THINKING_LEVELS: Record<NonNullable<AgentSpec['thinkingLevel']>, ThinkingLevel> = {
  minimal: ThinkingLevel.MINIMAL,
  low: ThinkingLevel.LOW,
  medium: ThinkingLevel.MEDIUM,
  high: ThinkingLevel.HIGH,
};

/**
 * The request's configuration, built from the spec alone: the system instruction and the tools
 * come out byte-identical on every call of a run, ahead of the turns, so Gemini's implicit cache
 * can serve that prefix. Gemini 3 thinks by level; a thinking budget is never sent (Gemini 3
 * refuses it, and with a level it is always refused). A model the table says thinks by budget
 * (Gemini 2.x, through `GEMINI_MODEL`) gets no thinking setting at all.
 */
export function requestConfig(spec: AgentSpec) {
  const level = spec.thinkingLevel && modelInfo(spec.model)?.thinking !== 'budget' ? THINKING_LEVELS[spec.thinkingLevel] : undefined;
  return {
    systemInstruction: spec.instructions,
    ...(spec.tools.length === 0
      ? {}
      : {
          tools: [
            {
              functionDeclarations: spec.tools.map((tool) => ({
                name: tool.name,
                description: tool.description,
                parametersJsonSchema: tool.parameters,
              })),
            },
          ],
          toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode[spec.functionCallingMode ?? 'AUTO'] } },
        }),
    ...(level ? { thinkingConfig: { thinkingLevel: level } } : {}),
    automaticFunctionCalling: { disable: true },
  };
}

/** The daily caps a call counts against: the person's (when someone asked) and the agent's. */
function dailyCaps(spec: AgentSpec, person: string | undefined): DailyCap[] {
  const caps: DailyCap[] = [];
  if (spec.budget?.perPersonPerDay !== undefined && person)
    caps.push({ scope: 'person', id: `${spec.name}\u0000${person}`, agent: spec.name, cap: spec.budget.perPersonPerDay });
  if (spec.budget?.perAgentPerDay !== undefined)
    caps.push({ scope: 'agent', id: spec.name, agent: spec.name, cap: spec.budget.perAgentPerDay });
  return caps;
}

function heartbeatIfActivity(): void {
  try {
    const context = Context.current();
    // A local activity has no heartbeats: Core keeps its task alive.
    if (!context.info.isLocal) context.heartbeat();
  } catch {
    // Not in an activity (a test calling the function directly): nothing to beat.
  }
}

/** One attempt of one model call: its admission and its settlement match, and a retry is another call. */
function callIdOf(): string {
  try {
    const { workflowExecution, activityId, attempt } = Context.current().info;
    return `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}/${attempt}`;
  } catch {
    return crypto.randomUUID();
  }
}

function activityHeartbeatDetails(): unknown {
  try {
    return Context.current().info.heartbeatDetails;
  } catch {
    return undefined;
  }
}

function resumeOf(details: unknown): StreamResume | undefined {
  const ts = (details as { ts?: unknown } | undefined)?.ts;
  return typeof ts === 'string' ? { ts } : undefined;
}

/** A streamed response as one: text parts joined, everything else (calls, signatures, usage) kept. */
function mergeChunks(chunks: GenerateContentResponse[]): GenerateContentResponse {
  const parts: Part[] = [];
  let last: GenerateContentResponse | undefined;
  for (const chunk of chunks) {
    last = chunk;
    for (const part of chunk.candidates?.[0]?.content?.parts ?? []) {
      const previous = parts.at(-1);
      const joinable =
        part.text !== undefined &&
        !part.functionCall &&
        previous?.text !== undefined &&
        !previous.functionCall &&
        Boolean(previous.thought) === Boolean(part.thought);
      if (joinable) {
        previous.text += part.text as string;
        if (part.thoughtSignature) previous.thoughtSignature = part.thoughtSignature;
      } else {
        parts.push({ ...(part as Part) });
      }
    }
  }
  const candidate = last?.candidates?.[0];
  return {
    candidates: [{ content: { role: 'model', parts }, ...(candidate?.finishReason ? { finishReason: candidate.finishReason } : {}) }],
    ...(last?.usageMetadata ? { usageMetadata: last.usageMetadata } : {}),
  } as GenerateContentResponse;
}

function activitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

function toContent(
  response: GenerateContentResponse,
  model: string,
): { content: Content; usage: ModelStepResult['usage']; finishReason?: string } {
  const candidate = response.candidates?.[0];
  const parts = (candidate?.content?.parts ?? []).flatMap((part) => {
    const kept: Part = {};
    if (part.text !== undefined) kept.text = part.text;
    if (part.thought) kept.thought = true;
    if (part.thoughtSignature) kept.thoughtSignature = part.thoughtSignature;
    if (part.functionCall?.name) {
      kept.functionCall = {
        name: part.functionCall.name,
        args: part.functionCall.args ?? {},
        ...(part.functionCall.id ? { id: part.functionCall.id } : {}),
      };
    }
    return Object.keys(kept).length === 0 ? [] : [kept];
  });
  const usage = response.usageMetadata;
  const promptTokens = usage?.promptTokenCount ?? 0;
  const thoughtsTokens = usage?.thoughtsTokenCount ?? 0;
  const cachedTokens = usage?.cachedContentTokenCount ?? 0;
  const outputTokens = (usage?.candidatesTokenCount ?? 0) + thoughtsTokens;
  return {
    content: { role: 'model', parts },
    usage: {
      promptTokens,
      outputTokens,
      totalTokens: usage?.totalTokenCount ?? promptTokens + outputTokens,
      cachedTokens,
      thoughtsTokens,
      cost: callCost(model, { promptTokens, cachedTokens, outputTokens }),
    },
    ...(candidate?.finishReason ? { finishReason: String(candidate.finishReason) } : {}),
  };
}
