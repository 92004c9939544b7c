import type { FunctionCall } from '../core/spec.ts';
import {
  startGeminiServer,
  type GeminiReply,
  type GeminiRequest,
  type GeminiResponder,
  type GeminiServer,
  type ReplyUsage,
} from '../local/gemini-server.ts';

export type ScriptStep = GeminiReply | ((request: GeminiRequest) => GeminiReply);

/** A reply that asks for one or more tool calls. */
export function callTools(...calls: FunctionCall[]): GeminiReply {
  return { content: { role: 'model', parts: calls.map((call) => ({ functionCall: call })) } };
}

export function answer(text: string, usage?: ReplyUsage): GeminiReply {
  return { content: { role: 'model', parts: [{ text }] }, ...(usage ? { usage } : {}) };
}

export function failWith(status: number, message: string, headers?: Record<string, string>): GeminiReply {
  return { status, message, ...(headers ? { headers } : {}) };
}

/**
 * A Gemini-compatible server that answers request N with step N. Past the end of the
 * script it answers 500, so a run that calls the model more than expected is visible.
 */
export function startScriptedModel(steps: ScriptStep[] | GeminiResponder): Promise<GeminiServer> {
  return startGeminiServer({
    apiKey: 'test-key',
    respond: (request) => {
      if (typeof steps === 'function') return steps(request);
      const step = steps[request.index];
      if (!step) return failWith(500, `script exhausted at request ${request.index}`);
      return typeof step === 'function' ? step(request) : step;
    },
  });
}
