// `npm run gemini-check`: with GOOGLE_API_KEY, one small call per model the agents use, with a
// function call and its thought signature sent back: model, latency, tokens and cost per model.
// Without a key it says it skipped. GEMINI_BASE_URL points it at another Gemini-compatible server.
import { GoogleGenAI, type Content as GenAIContent, type GenerateContentResponse } from '@google/genai';
import { createAgentRegistry } from '../agents/index.ts';
import { callCost, CURRENCY, modelInfo } from '../core/models.ts';
import type { AgentSpec } from '../core/spec.ts';
import { requestConfig } from '../worker/activities/model.ts';
import { classifyModelError } from '../worker/model-errors.ts';

const apiKey = process.env.GOOGLE_API_KEY?.trim();
if (!apiKey) {
  console.log('gemini-check skipped: GOOGLE_API_KEY is not set (set it to make one small call per model the agents use).');
  process.exit(0);
}
const baseUrl = process.env.GEMINI_BASE_URL?.trim() || undefined;
const override = process.env.GEMINI_MODEL?.trim() || undefined;
const client = new GoogleGenAI({ apiKey, httpOptions: { ...(baseUrl ? { baseUrl } : {}), retryOptions: { attempts: 1 } } });
const registry = createAgentRegistry(override ? { model: override } : {});
const models = [...new Set([...registry.agents.values()].map((agent) => agent.model))];

/** A spec of one tiny tool, so the check sends the request shape the agents send. */
const specFor = (model: string): AgentSpec => ({
  name: 'gemini-check',
  model,
  instructions: 'You check that tools work. Call add once, then say the sum in one short sentence.',
  tools: [
    {
      name: 'add',
      description: 'Adds two numbers.',
      parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
      timeout: '10 seconds',
      retry: {},
      approval: 'never',
    },
  ],
  limits: { maxSteps: 2, maxTokens: 10_000, maxDuration: '1 minute' },
  ...(modelInfo(model)?.thinking === 'budget' ? {} : { thinkingLevel: 'low' as const }),
});

let failed = false;
for (const model of models) {
  const spec = specFor(model);
  const started = Date.now();
  try {
    const contents: GenAIContent[] = [{ role: 'user', parts: [{ text: 'What is 2 + 3? Use the add tool.' }] }];
    const first = await client.models.generateContent({ model, contents, config: requestConfig(spec) });
    const modelTurn = first.candidates?.[0]?.content;
    const call = modelTurn?.parts?.find((part) => part.functionCall)?.functionCall;
    if (!modelTurn || !call) throw new Error('the model answered without calling the add tool');
    const signed = modelTurn.parts?.some((part) => part.functionCall && part.thoughtSignature) ?? false;
    // The model's turn goes back exactly as it came, signature included.
    contents.push(modelTurn, {
      role: 'user',
      parts: [{ functionResponse: { name: call.name ?? 'add', ...(call.id ? { id: call.id } : {}), response: { output: 5 } } }],
    });
    const second = await client.models.generateContent({ model, contents, config: requestConfig(spec) });
    const latency = Date.now() - started;
    const usage = [first, second]
      .map(tokensOf)
      .reduce((a, b) => ({ prompt: a.prompt + b.prompt, cached: a.cached + b.cached, output: a.output + b.output }));
    const cost = [first, second]
      .map(tokensOf)
      .reduce(
        (sum, tokens) => sum + callCost(model, { promptTokens: tokens.prompt, cachedTokens: tokens.cached, outputTokens: tokens.output }),
        0,
      );
    const answer = (second.candidates?.[0]?.content?.parts ?? [])
      .filter((part) => part.text && !part.thought)
      .map((part) => part.text)
      .join('')
      .trim();
    console.log(
      `${model}: ok in ${latency} ms; function call ${call.name}, signature ${signed ? 'sent back' : 'none given'}; tokens ${usage.prompt} in (${usage.cached} cached), ${usage.output} out; ${cost.toFixed(6)} ${CURRENCY}${modelInfo(model) ? '' : ' (not in core/models.ts: priced 0)'}; answer: ${answer.slice(0, 80)}`,
    );
  } catch (error) {
    failed = true;
    console.log(`${model}: FAILED after ${Date.now() - started} ms: ${classifyModelError(error, null, model).message}`);
  }
}
process.exit(failed ? 1 : 0);

function tokensOf(response: GenerateContentResponse) {
  const usage = response.usageMetadata;
  return {
    prompt: usage?.promptTokenCount ?? 0,
    cached: usage?.cachedContentTokenCount ?? 0,
    output: (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0),
  };
}
