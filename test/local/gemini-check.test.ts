import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Content } from '../../core/spec.ts';
import { startScriptedModel, answer, callTools, failWith } from '../../testkit/scripted-model.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm run gemini-check` as its script runs it; the stand-in answers in this process meanwhile. */
function check(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['cli/gemini-check.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run gemini-check', () => {
  it('says it skipped without a key', async () => {
    const { code, stdout } = await check({});
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('gemini-check skipped: GOOGLE_API_KEY is not set (set it to make one small call per model the agents use).');
  });

  it('makes a function call and sends its signature back, then prints model, latency, tokens and cost', async () => {
    const gemini = await startScriptedModel((request) =>
      (request.body.contents as Content[]).at(-1)!.parts.some((part) => part.functionResponse)
        ? answer('The sum is 5.', { promptTokens: 40, outputTokens: 6, thoughtsTokens: 4 })
        : { ...callTools({ name: 'add', args: { a: 2, b: 3 } }), usage: { promptTokens: 30, outputTokens: 5 } },
    );
    try {
      const { code, stdout, stderr } = await check({ GOOGLE_API_KEY: 'test-key', GEMINI_BASE_URL: gemini.url });
      expect(code, stderr).toBe(0);
      expect(stdout.trim()).toMatch(
        /^gemini-3\.5-flash: ok in \d+ ms; function call add, signature sent back; tokens 70 in \(0 cached\), 15 out; 0\.000240 USD; answer: The sum is 5\.$/,
      );
      // The second request carried the model's turn with its signature (the stand-in refuses it otherwise), and a thinking level, never a budget.
      expect(gemini.requests.map((request) => request.refused)).toEqual([undefined, undefined]);
      expect(gemini.requests[1]!.body.generationConfig?.thinkingConfig).toEqual({ thinkingLevel: 'LOW' });
    } finally {
      await gemini.close();
    }
  });

  it('prints one line per model Gemini refuses, and exits 1', async () => {
    const gemini = await startScriptedModel(() => failWith(404, 'models/gemini-9-ultra is not found for API version v1beta.'));
    try {
      const { code, stdout } = await check({ GOOGLE_API_KEY: 'test-key', GEMINI_BASE_URL: gemini.url, GEMINI_MODEL: 'gemini-9-ultra' });
      expect(code).toBe(1);
      expect(stdout.trim()).toMatch(
        /^gemini-9-ultra: FAILED after \d+ ms: Gemini refused model "gemini-9-ultra" \(404\): models\/gemini-9-ultra is not found for API version v1beta\. Set GEMINI_MODEL/,
      );
      expect(stdout.trim().split('\n')).toHaveLength(1);
    } finally {
      await gemini.close();
    }
  });
});
