import { GoogleGenAI } from '@google/genai';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { calculatorTool } from '../../agents/tools/calculator.ts';
import { currentTimeTool } from '../../agents/tools/current-time.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { callCost } from '../../core/models.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { Content } from '../../core/spec.ts';
import { startGeminiServer, type GeminiServer } from '../../local/gemini-server.ts';
import { classifyModelError, ModelErrorType } from '../../worker/model-errors.ts';
import type { AgentRunInput, AgentRunResult } from '../../workflows/agent-run.ts';
import { answer, callTools, startScriptedModel, type ScriptStep } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const assistant = defineAgent({
  name: 'gemini-3-assistant',
  instructions: 'Be brief.',
  tools: [currentTimeTool, calculatorTool],
  thinkingLevel: 'low',
  functionCallingMode: 'VALIDATED',
});

const twoSteps: ScriptStep[] = [
  callTools({ name: 'get_current_time', args: { timezone: 'Asia/Tokyo' } }),
  callTools({ name: 'calculate', args: { expression: '6*7' } }),
  answer('It is evening in Tokyo, and 6*7 = 42.'),
];

/** The signature the first function call of each model turn carries, in order. */
function signatures(contents: Content[]): (string | undefined)[] {
  return contents
    .filter((content) => content.role === 'model')
    .map((content) => content.parts.find((part) => part.functionCall)?.thoughtSignature);
}

describe('the Gemini stand-in speaks Gemini 3', () => {
  let server: GeminiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('refuses, as Gemini does, a request that drops the signature of a function call of this turn', async () => {
    server = await startScriptedModel(() => answer('unused'));
    const client = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: server.url, retryOptions: { attempts: 1 } } });
    const contents: Content[] = [
      { role: 'user', parts: [{ text: 'What time is it in Tokyo?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_current_time', args: { timezone: 'Asia/Tokyo' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_current_time', response: { output: { local: '18:00' } } } }] },
    ];
    const error = await client.models.generateContent({ model: 'gemini-3.5-flash', contents }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 400 });
    expect(String((error as Error).message)).toContain('"status":"INVALID_ARGUMENT"');
    expect(String((error as Error).message)).toContain('Function call is missing a thought_signature in functionCall parts');
    // Not retried: the request itself is wrong.
    const failure = classifyModelError(error, null) as ApplicationFailure;
    expect(failure).toMatchObject({ type: ModelErrorType.InvalidRequest, nonRetryable: true });

    // The same exchange with the signature given back passes; an earlier exchange's calls are not checked.
    contents[1]!.parts[0]!.thoughtSignature = 'c2lnbmF0dXJl';
    await expect(client.models.generateContent({ model: 'gemini-3.5-flash', contents })).resolves.toBeDefined();
    expect(server.requests.map((request) => request.refused?.status)).toEqual([400, undefined]);
  });

  it('refuses a thinking budget, alone or with a level, and a shut-down model', async () => {
    server = await startScriptedModel(() => answer('unused'));
    const client = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: server.url, retryOptions: { attempts: 1 } } });
    const ask = (model: string, thinkingConfig: object) =>
      client.models.generateContent({ model, contents: 'Hello', config: { thinkingConfig } }).catch((caught: unknown) => caught as Error);
    expect(String(await ask('gemini-3.5-flash', { thinkingBudget: 1024 }))).toMatch(
      /400.*thinking_budget is not supported by gemini-3\.5-flash/s,
    );
    expect(String(await ask('gemini-3.5-flash', { thinkingBudget: 1024, thinkingLevel: 'LOW' }))).toMatch(
      /400.*thinking_budget and thinking_level are not supported together/s,
    );
    const gone = await ask('gemini-2.0-flash', {});
    expect(gone).toMatchObject({ status: 404 });
    expect(String(gone)).toContain('models/gemini-2.0-flash is not found for API version v1beta');
    expect(await ask('gemini-3.5-flash', { thinkingLevel: 'HIGH' })).not.toBeInstanceOf(Error);
  });
});

describe('the Gemini stand-in streams as Gemini 3 does', () => {
  it('sends text in chunks with usage on each, and the signature last on an empty text part', async () => {
    const server = await startScriptedModel(() => ({
      ...answer('A'.repeat(100), { promptTokens: 50, outputTokens: 25, thoughtsTokens: 10 }),
      stream: { chunkChars: 40 },
    }));
    try {
      const client = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: server.url, retryOptions: { attempts: 1 } } });
      const chunks = [];
      for await (const chunk of await client.models.generateContentStream({
        model: 'gemini-3.5-flash',
        contents: 'Say A a hundred times.',
      }))
        chunks.push(chunk);
      expect(chunks.map((chunk) => chunk.candidates?.[0]?.content?.parts?.[0]?.text)).toEqual([
        'A'.repeat(40),
        'A'.repeat(40),
        'A'.repeat(20),
        '',
      ]);
      expect(chunks.at(-1)!.candidates?.[0]?.content?.parts?.[0]?.thoughtSignature).toBeTruthy();
      expect(chunks.every((chunk) => chunk.usageMetadata?.promptTokenCount === 50)).toBe(true);
      expect(chunks.at(-1)!.usageMetadata).toMatchObject({ candidatesTokenCount: 25, thoughtsTokenCount: 10, totalTokenCount: 85 });
      expect(chunks.at(-1)!.candidates?.[0]?.finishReason).toBe('STOP');
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(noTemporal)('Gemini 3 request shape in agent runs', () => {
  const temporal = useTemporal();
  let model: GeminiServer | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  async function run(server: GeminiServer, input: Partial<AgentRunInput> = {}, prompt = 'What time is it in Tokyo, and what is 6*7?') {
    model = server;
    const taskQueue = temporal.taskQueue();
    await temporal.startWorker({ taskQueue, tools: assistant.tools, modelUrl: server.url });
    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `gemini-3-${crypto.randomUUID()}`,
      args: [{ spec: compileAgent(assistant), prompt, ...input }],
    });
    return (await handle.result()) as AgentRunResult;
  }

  it('sends the thinking level and the calling mode, never a budget, and gives every signature back', async () => {
    const result = await run(await startScriptedModel(twoSteps));
    expect(result).toMatchObject({ stopReason: 'answer', steps: 3, toolCalls: 2 });
    const [first, second, third] = model!.requests;
    for (const request of [first!, second!, third!]) {
      expect(request.body.generationConfig?.thinkingConfig).toEqual({ thinkingLevel: 'LOW' });
      expect(request.body.toolConfig).toEqual({ functionCallingConfig: { mode: 'VALIDATED' } });
      expect(request.refused).toBeUndefined();
    }
    // Each model turn went back with the signature the stand-in gave it.
    const given = [0, 1].map((index) =>
      Buffer.from(`stand-in-signature:${index}:${index === 0 ? 'get_current_time' : 'calculate'}`).toString('base64'),
    );
    expect(signatures(second!.body.contents)).toEqual([given[0]]);
    expect(signatures(third!.body.contents)).toEqual(given);
  });

  it('keeps the signatures across continue-as-new (the transcript travels by reference)', async () => {
    const result = await run(await startScriptedModel(twoSteps), { continueAsNew: { maxHistoryEvents: 10 } });
    expect(result.stopReason).toBe('answer');
    expect(result.continuedCount).toBeGreaterThanOrEqual(1);
    expect(signatures(model!.requests[2]!.body.contents)).toHaveLength(2);
    expect(signatures(model!.requests[2]!.body.contents).every(Boolean)).toBe(true);
    expect(model!.requests.every((request) => !request.refused)).toBe(true);
  });

  it('keeps the prefix byte-identical from call to call, records cached tokens and prices each call', async () => {
    const server = await startGeminiServer({
      apiKey: 'test-key',
      implicitCacheMinTokens: 16,
      respond: (request) => twoSteps[request.index] as Exclude<ScriptStep, (...args: never[]) => unknown>,
    });
    const result = await run(server);
    const [first, second] = server.requests;
    // The body is `{"contents":[…],…}`: the first call's turns open the second's, byte for byte, and what follows (system instruction, tools, config) is the same bytes.
    const turnsOf = (raw: string) => raw.slice(0, raw.indexOf(',"systemInstruction"'));
    const firstTurns = turnsOf(first!.raw);
    expect(firstTurns.startsWith('{"contents":[')).toBe(true);
    expect(second!.raw.startsWith(firstTurns.slice(0, -1))).toBe(true);
    expect(first!.raw.slice(firstTurns.length)).toBe(second!.raw.slice(turnsOf(second!.raw).length));

    expect(result.usage.cachedTokens).toBeGreaterThan(0);
    expect(result.usage.cost).toBeGreaterThan(0);
    // The whole run's cost is the sum of its calls', each at gemini-3.5-flash's prices with its cached share.
    expect(result.usage.cost).toBeLessThan(
      callCost('gemini-3.5-flash', { promptTokens: result.usage.promptTokens, outputTokens: result.usage.outputTokens }),
    );
  });
});
