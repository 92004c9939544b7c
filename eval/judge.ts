import { GoogleGenAI } from '@google/genai';
import * as z from 'zod';
import { DEFAULT_MODEL } from '../core/models.ts';
import type { JudgeVerdict } from './score.ts';

export interface JudgeOptions {
  apiKey: string;
  /** A Gemini-compatible server other than Google's. @default Google's */
  baseUrl?: string;
  /** @default DEFAULT_MODEL of the model table (core/models.ts) */
  model?: string;
}

export interface JudgeInput {
  rubric: string;
  prompt: string;
  answer: string;
}

export type Judge = (input: JudgeInput) => Promise<JudgeVerdict>;

const verdictSchema = z.object({ verdict: z.enum(['pass', 'fail']), reason: z.string().min(1) });

/**
 * A judge model: reads the rubric, the question and the answer, and returns a verdict with
 * its reason as JSON. A reply that is not such JSON is a failed verdict that says so, never a
 * silent pass.
 */
export function createJudge(options: JudgeOptions): Judge {
  const client = new GoogleGenAI({
    apiKey: options.apiKey,
    httpOptions: { ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}), retryOptions: { attempts: 2 } },
  });
  return async ({ rubric, prompt, answer }) => {
    const response = await client.models.generateContent({
      model: options.model ?? DEFAULT_MODEL,
      contents: [{ role: 'user', parts: [{ text: [`Rubric:\n${rubric}`, `Question:\n${prompt}`, `Answer:\n${answer}`].join('\n\n') }] }],
      config: {
        systemInstruction:
          'You grade an AI agent\'s answer against a rubric. Reply with JSON only: {"verdict": "pass" or "fail", "reason": one sentence}.',
        responseMimeType: 'application/json',
        temperature: 0,
      },
    });
    const text = response.text ?? '';
    try {
      const parsed = verdictSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // Not JSON: reported below.
    }
    return { verdict: 'fail', reason: `the judge's reply was not a verdict: ${text.slice(0, 200)}` };
  };
}
