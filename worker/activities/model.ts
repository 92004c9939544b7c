import { AsyncLocalStorage } from 'node:async_hooks';
import { Context } from '@temporalio/activity';
import { FunctionCallingConfigMode, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import {
  functionCalls,
  textOf,
  type AgentSpec,
  type AppendInput,
  type AppendResult,
  type Content,
  type ModelStepInput,
  type ModelStepResult,
  type Part,
  type PlannedCall,
  type ToolOutcome,
  type ToolResultRef,
} from '../../core/spec.ts';
import { boundResult } from '../../store/excerpt.ts';
import type { TranscriptStore } from '../../store/transcript-store.ts';
import { classifyModelError } from '../model-errors.ts';
import { appendMessages, loadContext } from '../transcript.ts';

export interface ModelActivityDeps {
  apiKey: string;
  /** Gemini API base URL. @default 'https://generativelanguage.googleapis.com' */
  baseUrl?: string;
  store: TranscriptStore;
  /** Most bytes of transcript JSON sent to the model per call. @default 400_000 */
  contextBytes?: number;
  /** A tool result larger than this is shown to the model as a bounded excerpt. @default 32_768 */
  toolResultBytes?: number;
}

/** Function-call arguments larger than this travel by reference. */
export const MAX_INLINE_ARGS_BYTES = 4_096;
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

export function createModelActivities(deps: ModelActivityDeps) {
  const { store } = deps;
  const client = new GoogleGenAI({
    apiKey: deps.apiKey,
    httpOptions: {
      ...(deps.baseUrl ? { baseUrl: deps.baseUrl } : {}),
      // Temporal owns retries; a second retry layer would multiply attempts and hide 429s.
      retryOptions: { attempts: 1 },
      fetch: recordingFetch,
    },
  });

  async function generate(spec: AgentSpec, contents: Content[]): Promise<GenerateContentResponse> {
    const slot: { headers?: Headers } = {};
    // Cancellation reaches an activity through its heartbeats: beat while the call is open.
    const stopBeating = heartbeatWhileWaiting();
    try {
      return await responseHeaders.run(slot, () =>
        client.models.generateContent({
          model: spec.model,
          contents,
          config: {
            systemInstruction: spec.instructions,
            ...(spec.tools.length === 0
              ? {}
              : {
                  tools: [{ functionDeclarations: spec.tools.map((tool) => ({ name: tool.name, description: tool.description, parametersJsonSchema: tool.parameters })) }],
                  toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } },
                }),
            automaticFunctionCalling: { disable: true },
            abortSignal: activitySignal(),
          },
        }),
      );
    } catch (error) {
      if (activitySignal()?.aborted) throw error;
      throw classifyModelError(error, slot.headers?.get('retry-after'));
    } finally {
      stopBeating();
    }
  }

  async function toolResponses(results: ToolResultRef[]): Promise<Content> {
    const parts: Part[] = [];
    for (const result of results) {
      let response: Record<string, unknown>;
      if (result.resultRef) {
        const outcome = await store.get<ToolOutcome>(result.resultRef);
        response = outcome.ok ? { output: boundResult(outcome.result, deps.toolResultBytes ?? 32_768, result.resultRef) } : { error: outcome.error };
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
    async callModel(input: ModelStepInput): Promise<ModelStepResult> {
      const spec = await store.get<AgentSpec>(input.specRef);
      let head = input.head;
      if (input.toolResults?.length) head = await appendMessages(store, head, [await toolResponses(input.toolResults)]);
      const contents = await loadContext(store, head, { maxBytes: deps.contextBytes ?? 400_000 });
      const response = await generate(spec, contents);
      const { content, usage, finishReason } = toContent(response);
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

    /** Starts or extends a transcript; stores the run's spec so model steps can pass its ref. */
    async appendToTranscript(input: AppendInput): Promise<AppendResult> {
      const head = await appendMessages(store, input.head, input.messages);
      return { head, ...(input.spec ? { specRef: await store.put(input.spec) } : {}) };
    },
  };
}

const HEARTBEAT_EVERY_MS = 2_000;

function heartbeatWhileWaiting(): () => void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return () => undefined;
  }
  // No beat at the start: the first one is sent to the server at once, one more write a call;
  // the heartbeat timeout (15 s) leaves room for the first beat after 2 s.
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
  return () => clearInterval(timer);
}

function activitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

function toContent(response: GenerateContentResponse): { content: Content; usage: ModelStepResult['usage']; finishReason?: string } {
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
  const outputTokens = (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0);
  return {
    content: { role: 'model', parts },
    usage: { promptTokens, outputTokens, totalTokens: usage?.totalTokenCount ?? promptTokens + outputTokens },
    ...(candidate?.finishReason ? { finishReason: String(candidate.finishReason) } : {}),
  };
}
