import { AsyncLocalStorage } from 'node:async_hooks';
import { Context } from '@temporalio/activity';
import { FunctionCallingConfigMode, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import type { Content, ModelCallInput, ModelCallResult } from '../../core/spec.ts';
import { classifyModelError } from '../model-errors.ts';

export interface ModelActivityDeps {
  apiKey: string;
  /** Gemini API base URL. @default 'https://generativelanguage.googleapis.com' */
  baseUrl?: string;
}

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
  const client = new GoogleGenAI({
    apiKey: deps.apiKey,
    httpOptions: {
      ...(deps.baseUrl ? { baseUrl: deps.baseUrl } : {}),
      // Temporal owns retries; a second retry layer would multiply attempts and hide 429s.
      retryOptions: { attempts: 1 },
      fetch: recordingFetch,
    },
  });

  return {
    async callModel(input: ModelCallInput): Promise<ModelCallResult> {
      const slot: { headers?: Headers } = {};
      let response: GenerateContentResponse;
      // Cancellation reaches an activity through its heartbeats: beat while the call is open.
      const stopBeating = heartbeatWhileWaiting();
      try {
        response = await responseHeaders.run(slot, () =>
          client.models.generateContent({
            model: input.model,
            contents: input.contents,
            config: {
              systemInstruction: input.instructions,
              ...(input.tools.length === 0
                ? {}
                : {
                    tools: [{ functionDeclarations: input.tools.map((tool) => ({ name: tool.name, description: tool.description, parametersJsonSchema: tool.parameters })) }],
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
      return toResult(response);
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
  context.heartbeat();
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

function toResult(response: GenerateContentResponse): ModelCallResult {
  const candidate = response.candidates?.[0];
  const parts = (candidate?.content?.parts ?? []).flatMap((part) => {
    const kept: Content['parts'][number] = {};
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
