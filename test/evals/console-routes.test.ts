import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evalRoutes } from '../../eval/console-routes.ts';
import { writeResults } from '../../eval/files.ts';
import { summarise, type CaseResult, type EvalRun } from '../../eval/run-cases.ts';
import { createLocalDirectoryStore } from '../../store/local-directory-store.ts';
import { appendMessages } from '../../store/transcript-chain.ts';

describe("the console's Evals pane", () => {
  it('lists runs, opens one, and opens a case transcript from the store; nothing else', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'eval-results-'));
    const store = createLocalDirectoryStore({ directory: join(directory, 'transcripts') });
    const messages = [
      { role: 'user' as const, parts: [{ text: 'What is 12 * 7?' }] },
      { role: 'model' as const, parts: [{ text: '12 * 7 = 84' }] },
    ];
    const head = await appendMessages(store, undefined, messages);
    const result: CaseResult = {
      id: 'sum',
      file: 'evals/assistant/sum.json',
      pass: true,
      failures: [],
      notes: [],
      answer: '12 * 7 = 84',
      stopReason: 'answer',
      steps: 1,
      usage: { promptTokens: 10, outputTokens: 5, totalTokens: 15 },
      latencyMs: 900,
      calls: [],
      answered: [],
      approvals: [],
      workflowId: 'eval:x:sum',
      transcriptHead: head,
    };
    const run: EvalRun = {
      version: 1,
      id: '20261207T180000-abcdef',
      agent: 'assistant',
      configuration: { label: 'as defined', model: 'gemini-3.5-flash' },
      startedAt: '2026-12-07T18:00:00.000Z',
      finishedAt: '2026-12-07T18:00:02.000Z',
      model: 'offline',
      cases: [result, { ...result, id: 'no-transcript', transcriptHead: '../../etc/passwd' }],
      summary: summarise([result]),
    };
    const name = writeResults(run, directory).split('/').pop()!;
    const app = evalRoutes({ resultsDirectory: directory, store });

    const list = await (await app.request('/')).json();
    expect(list.runs).toEqual([expect.objectContaining({ name, agent: 'assistant', label: 'as defined', passed: 1, total: 1 })]);
    expect(((await (await app.request(`/${name}`)).json()) as EvalRun).cases[0]!.id).toBe('sum');
    expect(await (await app.request(`/${name}/cases/sum/transcript`)).json()).toEqual({ messages });

    expect((await app.request('/..%2F..%2Fpackage.json')).status).toBe(404);
    expect((await app.request(`/${name}/cases/missing/transcript`)).status).toBe(404);
    const refused = await app.request(`/${name}/cases/no-transcript/transcript`);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ error: 'This case kept no transcript (its run failed).' });
  });
});
