/**
 * The Gemini models this project knows: status, shutdown date, context window and prices.
 * Pure data and pure functions (no clock: callers pass `now`), so workflows may import it.
 *
 * Read on 2026-12-07 from Google's pages:
 * - https://ai.google.dev/gemini-api/docs/deprecations (release and shutdown dates, replacements)
 * - https://ai.google.dev/gemini-api/docs/pricing (Standard tier, paid, text input, prompts ≤ 200k tokens)
 * - https://ai.google.dev/gemini-api/docs/models (context windows)
 * How to update it: docs/models-and-costs.md.
 */

export const MODEL_TABLE_DATE = '2026-12-07';
export const MODEL_TABLE_SOURCES = [
  'https://ai.google.dev/gemini-api/docs/deprecations',
  'https://ai.google.dev/gemini-api/docs/pricing',
  'https://ai.google.dev/gemini-api/docs/models',
] as const;

/** The model agents use unless they name one: generally available, no shutdown announced. */
export const DEFAULT_MODEL = 'gemini-3.5-flash';

/** Gemini 3's thinking levels (`thinkingConfig.thinkingLevel`), lowest first. */
export const THINKING_LEVELS = ['minimal', 'low', 'medium', 'high'] as const;
export type ThinkingLevel = (typeof THINKING_LEVELS)[number];

/** `toolConfig.functionCallingConfig.mode`: AUTO lets the model choose, ANY forces a call, NONE forbids one, VALIDATED checks calls against the schema. */
export const FUNCTION_CALLING_MODES = ['AUTO', 'ANY', 'NONE', 'VALIDATED'] as const;
export type FunctionCallingMode = (typeof FUNCTION_CALLING_MODES)[number];

export type ModelStatus = 'ga' | 'preview' | 'deprecated' | 'shut_down';

/** US dollars per million tokens. */
export interface ModelPrices {
  input: number;
  /** Input tokens served from the (implicit or explicit) context cache. */
  cachedInput: number;
  /** Output tokens, thinking tokens included. */
  output: number;
}

export interface ModelInfo {
  id: string;
  status: ModelStatus;
  /** `YYYY-MM-DD` (UTC): the announced shutdown date, past or coming. */
  shutdown?: string;
  /** What Google recommends instead, once a shutdown is announced. */
  replacement?: string;
  /** Input tokens. */
  contextWindow: number;
  prices: ModelPrices;
  /** Gemini 3 thinks by `thinkingLevel`; earlier models took a budget, which this project never sends. */
  thinking: 'level' | 'budget';
  /** Why a figure is as it is (introductory price, routing after shutdown). */
  note?: string;
}

/** Currency of every price and cost here. */
export const CURRENCY = 'USD';

export const MODELS: readonly ModelInfo[] = [
  {
    id: 'gemini-3.5-flash',
    status: 'ga',
    contextWindow: 1_048_576,
    prices: { input: 1.5, cachedInput: 0.15, output: 9 },
    thinking: 'level',
  },
  {
    id: 'gemini-3.8-flash',
    status: 'ga',
    contextWindow: 1_048_576,
    prices: { input: 0.75, cachedInput: 0.075, output: 3.75 },
    thinking: 'level',
    note: 'Introductory price through 2026-12-31.',
  },
  {
    id: 'gemini-3.1-flash-lite',
    status: 'deprecated',
    shutdown: '2027-05-07',
    replacement: 'gemini-3.5-flash-lite',
    contextWindow: 1_048_576,
    prices: { input: 0.25, cachedInput: 0.025, output: 1.5 },
    thinking: 'level',
  },
  {
    id: 'gemini-3.1-pro-preview',
    status: 'preview',
    contextWindow: 1_048_576,
    prices: { input: 2, cachedInput: 0.2, output: 12 },
    thinking: 'level',
  },
  {
    id: 'gemini-3-flash-preview',
    status: 'preview',
    contextWindow: 1_048_576,
    prices: { input: 0.5, cachedInput: 0.05, output: 3 },
    thinking: 'level',
  },
  {
    id: 'gemini-3-pro-preview',
    status: 'shut_down',
    shutdown: '2026-03-09',
    replacement: 'gemini-3.1-pro-preview',
    contextWindow: 1_048_576,
    prices: { input: 2, cachedInput: 0.2, output: 12 },
    thinking: 'level',
  },
  {
    id: 'gemini-2.5-flash',
    status: 'shut_down',
    shutdown: '2026-12-01',
    replacement: 'gemini-3.5-flash',
    contextWindow: 1_048_576,
    prices: { input: 0.3, cachedInput: 0.03, output: 2.5 },
    thinking: 'budget',
    note: 'Google routes its requests to gemini-3.5-flash-lite since the shutdown; this project moves to gemini-3.5-flash.',
  },
  {
    id: 'gemini-2.5-pro',
    status: 'shut_down',
    shutdown: '2026-12-01',
    replacement: 'gemini-3.8-flash',
    contextWindow: 1_048_576,
    prices: { input: 1.25, cachedInput: 0.125, output: 10 },
    thinking: 'budget',
  },
  {
    id: 'gemini-2.5-flash-lite',
    status: 'ga',
    contextWindow: 1_048_576,
    prices: { input: 0.1, cachedInput: 0.01, output: 0.4 },
    thinking: 'budget',
    note: 'Not deprecated: available until further notice.',
  },
  {
    id: 'gemini-2.0-flash',
    status: 'shut_down',
    shutdown: '2026-06-01',
    replacement: 'gemini-3.1-flash-lite',
    contextWindow: 1_048_576,
    prices: { input: 0.1, cachedInput: 0.025, output: 0.4 },
    thinking: 'budget',
  },
  {
    id: 'gemini-2.0-flash-lite',
    status: 'shut_down',
    shutdown: '2026-06-01',
    replacement: 'gemini-3.1-flash-lite',
    contextWindow: 1_048_576,
    prices: { input: 0.075, cachedInput: 0.075, output: 0.3 },
    thinking: 'budget',
  },
];

/** Days before a shutdown during which a worker warns at start. */
export const SHUTDOWN_WARNING_DAYS = 60;
const DAY_MS = 86_400_000;

export function modelInfo(id: string, table: readonly ModelInfo[] = MODELS): ModelInfo | undefined {
  return table.find((model) => model.id === id);
}

/** Whether the model is off on `now` (epoch ms): marked shut down, or its shutdown date has come. */
export function isShutDown(model: ModelInfo, now: number): boolean {
  return model.status === 'shut_down' || (model.shutdown !== undefined && Date.parse(`${model.shutdown}T00:00:00Z`) <= now);
}

/**
 * Why a model id cannot be used on `now`, or undefined. `setting` names what changes it
 * (`GEMINI_MODEL`, or the agent's `model`).
 */
export function modelRefusal(id: string, now: number, setting: string, table: readonly ModelInfo[] = MODELS): string | undefined {
  const model = modelInfo(id, table);
  if (!model || !isShutDown(model, now)) return undefined;
  const instead = model.replacement ? `; use "${model.replacement}" instead` : '';
  return `Gemini model "${id}" was shut down${model.shutdown ? ` on ${model.shutdown}` : ''}${instead} (set ${setting}).`;
}

/** One warning line for a model a worker is about to use, or undefined when all is well. */
export function modelWarning(id: string, now: number, setting: string, table: readonly ModelInfo[] = MODELS): string | undefined {
  const model = modelInfo(id, table);
  if (!model) {
    return `Gemini model "${id}" is not in the model table (core/models.ts, ${MODEL_TABLE_DATE}): it is used as given, but its cost is counted as 0 and its shutdown is not watched (${setting}).`;
  }
  if (isShutDown(model, now)) return modelRefusal(id, now, setting, table);
  if (!model.shutdown) return undefined;
  const days = Math.ceil((Date.parse(`${model.shutdown}T00:00:00Z`) - now) / DAY_MS);
  if (days > SHUTDOWN_WARNING_DAYS) return undefined;
  const instead = model.replacement ? `; move to "${model.replacement}"` : '';
  return `Gemini model "${id}" shuts down on ${model.shutdown}, in ${days} day${days === 1 ? '' : 's'}${instead} (set ${setting}).`;
}

/** Token counts of one call, as cost needs them. */
export interface BilledTokens {
  /** Every input token, cached ones included (Gemini's `promptTokenCount`). */
  promptTokens: number;
  /** Of those, tokens served from the cache (`cachedContentTokenCount`). */
  cachedTokens?: number;
  /** Answer and thinking tokens (`candidatesTokenCount` + `thoughtsTokenCount`). */
  outputTokens: number;
}

/** What a call cost in `CURRENCY`; 0 for a model not in the table (its warning says so). */
export function callCost(id: string, tokens: BilledTokens, table: readonly ModelInfo[] = MODELS): number {
  const model = modelInfo(id, table);
  if (!model) return 0;
  const cached = Math.min(tokens.cachedTokens ?? 0, tokens.promptTokens);
  const { input, cachedInput, output } = model.prices;
  const cost = ((tokens.promptTokens - cached) * input + cached * cachedInput + tokens.outputTokens * output) / 1_000_000;
  // Rounded to a millionth of a dollar, so sums in history and records stay short and exact enough.
  return Math.round(cost * 1_000_000) / 1_000_000;
}
