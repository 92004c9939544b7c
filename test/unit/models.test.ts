import { describe, expect, it } from 'vitest';
import { defineAgent } from '../../authoring/define-agent.ts';
import {
  callCost,
  DEFAULT_MODEL,
  isShutDown,
  MODEL_TABLE_DATE,
  modelInfo,
  modelRefusal,
  MODELS,
  modelWarning,
  SHUTDOWN_WARNING_DAYS,
  type ModelInfo,
} from '../../core/models.ts';
import { loadWorkerSettings } from '../../config/worker-settings.ts';
import { modelWarningsAtStart } from '../../worker/model-warnings.ts';

const DAY = 86_400_000;
const now = Date.parse('2026-12-07T12:00:00Z');

describe('the model table', () => {
  it('has a default model that is generally available with no shutdown announced', () => {
    const model = modelInfo(DEFAULT_MODEL);
    expect(model, `${DEFAULT_MODEL} is not in core/models.ts`).toBeDefined();
    expect(model!.status).toBe('ga');
    expect(model!.shutdown).toBeUndefined();
    expect(isShutDown(model!, Date.now())).toBe(false);
    // An agent that names no model is defined without error, today.
    expect(defineAgent({ name: 'plain', instructions: 'Answer.' }).model).toBe(DEFAULT_MODEL);
  });

  it('is dated, and every row is whole: a known status, prices, a replacement for each shutdown', () => {
    expect(MODEL_TABLE_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const ids = new Set<string>();
    for (const model of MODELS) {
      expect(ids.has(model.id), `${model.id} twice`).toBe(false);
      ids.add(model.id);
      expect(['ga', 'preview', 'deprecated', 'shut_down']).toContain(model.status);
      expect(model.contextWindow).toBeGreaterThan(0);
      expect(model.prices.cachedInput).toBeLessThanOrEqual(model.prices.input);
      if (model.status === 'shut_down' || model.status === 'deprecated') {
        expect(model.shutdown, model.id).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(model.replacement, model.id).toBeTruthy();
      }
    }
  });

  it('refuses an agent on a shut-down model, naming the replacement and the setting', () => {
    expect(() => defineAgent({ name: 'old', model: 'gemini-2.5-flash', instructions: 'Answer.' })).toThrow(
      'Agent "old": Gemini model "gemini-2.5-flash" was shut down on 2026-12-01; use "gemini-3.5-flash" instead (set the "model" of agent "old").',
    );
  });

  it('refuses GEMINI_MODEL naming a shut-down model, in one line', () => {
    expect(() => loadWorkerSettings({ TEMPORAL_ADDRESS: 'localhost:7233', GOOGLE_API_KEY: 'k', GEMINI_MODEL: 'gemini-2.0-flash' })).toThrow(
      /Gemini model "gemini-2\.0-flash" was shut down on 2026-06-01; use "gemini-3\.1-flash-lite" instead \(set GEMINI_MODEL\)/,
    );
  });

  it('warns at start for a model within 60 days of its shutdown, and for a model it does not know', () => {
    const soon: ModelInfo = {
      id: 'gemini-soon',
      status: 'deprecated',
      shutdown: '2027-01-15',
      replacement: 'gemini-3.5-flash',
      contextWindow: 1,
      prices: { input: 1, cachedInput: 0.1, output: 2 },
      thinking: 'level',
    };
    expect(modelWarning('gemini-soon', now, 'GEMINI_MODEL', [soon])).toBe(
      'Gemini model "gemini-soon" shuts down on 2027-01-15, in 39 days; move to "gemini-3.5-flash" (set GEMINI_MODEL).',
    );
    expect(modelWarning('gemini-soon', now - SHUTDOWN_WARNING_DAYS * DAY, 'GEMINI_MODEL', [soon])).toBeUndefined();
    expect(modelWarning('gemini-3.5-flash', now, 'x')).toBeUndefined();
    expect(modelRefusal('gemini-soon', Date.parse('2027-01-15T00:00:00Z'), 'x', [soon])).toMatch(/was shut down on 2027-01-15/);

    const agent = defineAgent({ name: 'novel', model: 'gemini-9-ultra', instructions: 'Answer.' });
    expect(modelWarningsAtStart([agent], now)).toEqual([
      'Gemini model "gemini-9-ultra" is not in the model table (core/models.ts, 2026-12-07): it is used as given, but its cost is counted as 0 and its shutdown is not watched (GEMINI_MODEL, or the "model" of agent "novel").',
    ]);
    expect(modelWarningsAtStart([defineAgent({ name: 'fine', instructions: 'Answer.' })], now)).toEqual([]);
  });

  it('refuses a thinking level on a model that thinks by budget', () => {
    expect(() => defineAgent({ name: 'lite', model: 'gemini-2.5-flash-lite', thinkingLevel: 'low', instructions: 'Answer.' })).toThrow(
      /takes no thinkingLevel/,
    );
    expect(defineAgent({ name: 'g3', thinkingLevel: 'low', functionCallingMode: 'VALIDATED', instructions: 'Answer.' })).toMatchObject({
      thinkingLevel: 'low',
      functionCallingMode: 'VALIDATED',
    });
  });

  it('prices a call: fresh input, cached input and output (thinking included) at their own rates', () => {
    // gemini-3.5-flash: $1.50 in, $0.15 cached, $9.00 out per million.
    expect(callCost('gemini-3.5-flash', { promptTokens: 1_000_000, cachedTokens: 400_000, outputTokens: 100_000 })).toBeCloseTo(
      0.9 + 0.06 + 0.9,
      6,
    );
    expect(callCost('gemini-unknown', { promptTokens: 1000, outputTokens: 1000 })).toBe(0);
  });
});
