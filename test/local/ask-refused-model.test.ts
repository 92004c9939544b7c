import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startGeminiServer } from '../../local/gemini-server.ts';
import { failWith } from '../../testkit/scripted-model.ts';
import { noTemporal, temporalAddress } from '../../testkit/temporal.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'ask-refused-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `npm run ask` as its script runs it, with `env` on top of a small clean environment; the stand-in answers in this process meanwhile. */
function ask(question: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', './local/require-node-24.mjs', 'cli/ask.ts', question], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(noTemporal)('npm run ask against a Gemini that refuses the model', () => {
  it('prints one line naming the model, what Gemini said and the setting, and calls the model once', async () => {
    const said = 'models/gemini-3.5-flash is not found for API version v1beta, or is not supported for generateContent.';
    const gemini = await startGeminiServer({ apiKey: 'test-key', respond: () => failWith(404, said) });
    try {
      const { code, stderr } = await ask('What time is it in Tokyo?', {
        GOOGLE_API_KEY: 'test-key',
        GEMINI_BASE_URL: gemini.url,
        TEMPORAL_ADDRESS: temporalAddress,
      });
      expect(code, stderr).toBe(1);
      const failed = stderr.split('\n').filter((line) => line.startsWith('The run failed'));
      expect(failed).toEqual([
        `The run failed: Gemini refused model "gemini-3.5-flash" (404): ${said} Set GEMINI_MODEL, or the agent's "model", to a model Gemini serves (see docs/models-and-costs.md).`,
      ]);
      expect(stderr).not.toContain('Workflow execution failed');
      // A refused model is not retried.
      expect(gemini.requests).toHaveLength(1);
    } finally {
      await gemini.close();
    }
  });
});
