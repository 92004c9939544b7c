import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaseFileError, parseCase } from '../../eval/case.ts';
import { loadCases } from '../../eval/files.ts';
import { redact, REDACTED } from '../../eval/redact.ts';
import { compareRuns } from '../../eval/report.ts';
import { summarise, type CaseResult, type EvalRun } from '../../eval/run-cases.ts';
import { costOf, scoreRun, type ObservedRun } from '../../eval/score.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';

const valid = { version: 1, id: 'tokyo', agent: 'assistant', prompt: 'What time is it in Tokyo?' };

const run = (overrides: Partial<ObservedRun> = {}): ObservedRun => ({
  answer: 'It is 03:37 in Asia/Tokyo.',
  stopReason: 'answer',
  steps: 2,
  usage: { promptTokens: 100, outputTokens: 20, totalTokens: 120 },
  calls: [{ tool: 'get_current_time', args: { timezone: 'Asia/Tokyo' }, agent: 'assistant' }],
  approvals: [],
  ...overrides,
});

describe('case files', () => {
  it('fill in their defaults', () => {
    const parsed = parseCase(valid, 'tokyo.json');
    expect(parsed).toMatchObject({ context: [], liveTools: false, recorded: { toolCalls: [] }, expect: {} });
  });

  it('fail with every bad field named by its path', () => {
    const bad = {
      ...valid,
      id: 'Tokyo Time',
      recorded: { toolCalls: [{ tool: 'get_current_time', args: {}, outcome: { ok: true } }] },
      expect: { maxSteps: 0, answer: { contain: ['Tokyo'] }, toolsCalled: 'get_current_time' },
    };
    let error: unknown;
    try {
      parseCase(bad, 'evals/assistant/tokyo.json');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CaseFileError);
    const message = (error as Error).message;
    expect(message).toContain('evals/assistant/tokyo.json is not a valid eval case');
    for (const field of ['id:', 'expect.maxSteps:', 'expect.answer:', 'expect.toolsCalled:', 'recorded.toolCalls.0.outcome'])
      expect(message).toContain(`  ${field}`);
    expect(message).toMatch(/expect\.answer: .*contain/);
  });

  it('refuse a pattern that is not a regular expression, naming it', () => {
    expect(() => parseCase({ ...valid, expect: { answer: { matches: ['(unclosed'] } } }, 'x.json')).toThrow(
      /x\.json: expect\.answer\.matches\.0: not a regular expression/,
    );
  });

  it('load from evals/<agent>/, reporting every malformed file and its field', () => {
    const root = mkdtempSync(join(tmpdir(), 'evals-'));
    mkdirSync(join(root, 'evals', 'assistant'), { recursive: true });
    writeFileSync(join(root, 'evals', 'assistant', 'good.json'), JSON.stringify(valid));
    writeFileSync(join(root, 'evals', 'assistant', 'no-prompt.json'), JSON.stringify({ ...valid, id: 'other', prompt: undefined }));
    writeFileSync(join(root, 'evals', 'assistant', 'broken.json'), '{ "version": 1,');
    expect(() => loadCases('assistant', undefined, root)).toThrow(CaseFileError);
    try {
      loadCases('assistant', undefined, root);
    } catch (error) {
      expect((error as Error).message).toMatch(/no-prompt\.json is not a valid eval case:\n {2}prompt: /);
      expect((error as Error).message).toMatch(/broken\.json: .*JSON/);
    }
    writeFileSync(join(root, 'evals', 'assistant', 'no-prompt.json'), JSON.stringify({ ...valid, id: 'tokyo' }));
    writeFileSync(join(root, 'evals', 'assistant', 'broken.json'), JSON.stringify({ ...valid, id: 'other' }));
    expect(() => loadCases('assistant', undefined, root)).toThrow(/id: "tokyo" is also the id of/);
  });
});

describe('scoring', () => {
  it('passes a run that meets every expectation', () => {
    const evalCase = parseCase(
      {
        ...valid,
        expect: {
          toolsCalled: ['get_current_time'],
          toolsNotCalled: ['submit_expense'],
          args: [
            { tool: 'get_current_time', equals: { timezone: 'Asia/Tokyo' } },
            { tool: 'get_current_time', matches: { timezone: '^asia/' } },
          ],
          answer: { contains: ['asia/tokyo'], matches: ['\\d\\d:\\d\\d'], notContains: ['London'] },
          maxSteps: 2,
          maxTokens: 120,
        },
      },
      'x',
    );
    expect(scoreRun(evalCase, run())).toEqual({ pass: true, failures: [], notes: [] });
  });

  it('names the tool the agent stopped calling, and what it did instead', () => {
    const evalCase = parseCase(
      {
        ...valid,
        expect: { toolsCalled: ['get_current_time'], args: [{ tool: 'get_current_time', includes: { timezone: 'Asia/Tokyo' } }] },
      },
      'x',
    );
    const score = scoreRun(evalCase, run({ calls: [], answer: 'I cannot tell.' }));
    expect(score.pass).toBe(false);
    expect(score.failures).toEqual([
      'expected a call to get_current_time; the agent called no tool',
      'expected a call to get_current_time with timezone = "Asia/Tokyo"; get_current_time was not called (the agent called no tool)',
    ]);
  });

  it('fails on a forbidden call, a missing approval, a loop, and a judge that says no', () => {
    const evalCase = parseCase(
      { ...valid, expect: { toolsNotCalled: ['get_current_time'], approvals: ['submit_expense'], maxSteps: 1, rubric: 'Names the zone.' } },
      'x',
    );
    const score = scoreRun(evalCase, run({ judge: { verdict: 'fail', reason: 'no zone named' } }));
    expect(score.failures).toEqual([
      'called get_current_time, which it must not call ({"timezone":"Asia/Tokyo"})',
      'expected an approval request for submit_expense; none was asked',
      'took 2 steps, over the maximum of 1',
      'the judge failed the answer: no zone named',
    ]);
  });

  it('says a cost or a rubric could not be checked, without failing the case', () => {
    const evalCase = parseCase({ ...valid, expect: { maxCost: 0.01, rubric: 'Names the zone.' } }, 'x');
    expect(scoreRun(evalCase, run())).toEqual({
      pass: true,
      failures: [],
      notes: [
        'maxCost: not recorded (this run reports no cost)',
        'rubric: not judged (no judge model: set GOOGLE_API_KEY or give --judge-url)',
      ],
    });
    expect(scoreRun(evalCase, run({ cost: 0.02 })).failures).toEqual(['cost $0.020000, over the maximum of $0.01']);
    // The cost a run reports beside its tokens (usage.cost), or none.
    const result = { usage: { promptTokens: 1, outputTokens: 1, totalTokens: 2 } } as AgentRunResult;
    expect(costOf(result)).toBeUndefined();
    expect(costOf({ ...result, usage: { ...result.usage, cost: 0.02 } } as AgentRunResult)).toBe(0.02);
  });
});

describe('redaction', () => {
  it('removes secrets by key, by shape and by value, and keeps the rest', () => {
    const value = {
      text: 'token xoxb-1234-5678-abcdefgh and key AKIAABCDEFGHIJKLMNOP, see https://x.test/a?X-Amz-Signature=deadbeef&b=1',
      nested: [{ apiKey: 'plain', authorization: 'Basic abc', totalTokens: 42 }],
      parts: [{ functionCall: { name: 'calculate', args: {} }, thoughtSignature: 'c2lnbmF0dXJl' }],
      env: 'uses s3cr3t-value-123 here',
    };
    expect(redact(value, ['s3cr3t-value-123'])).toEqual({
      text: `token ${REDACTED} and key ${REDACTED}, see https://x.test/a?X-Amz-Signature=${REDACTED}&b=1`,
      nested: [{ apiKey: REDACTED, authorization: REDACTED, totalTokens: 42 }],
      parts: [{ functionCall: { name: 'calculate', args: {} }, thoughtSignature: 'c2lnbmF0dXJl' }],
      env: `uses ${REDACTED} here`,
    });
  });
});

describe('comparing two runs', () => {
  const result = (id: string, pass: boolean, cost: number | undefined, latencyMs: number): CaseResult => ({
    id,
    file: `${id}.json`,
    pass,
    failures: pass ? [] : [`expected a call to tool_${id}; the agent called no tool`],
    notes: [],
    answer: '',
    stopReason: 'answer',
    steps: 2,
    usage: { promptTokens: 80, outputTokens: 20, totalTokens: 100 },
    ...(cost === undefined ? {} : { cost }),
    latencyMs,
    calls: [],
    answered: [],
    approvals: [],
    workflowId: `eval:x:${id}`,
  });
  const runOf = (label: string, cases: CaseResult[]): EvalRun => ({
    version: 1,
    id: `20261207T18000${label.length}-abcdef`,
    agent: 'assistant',
    configuration: { label, model: 'gemini-3.5-flash' },
    startedAt: '',
    finishedAt: '',
    model: 'offline',
    cases,
    summary: summarise(cases),
  });

  it('lists the cases that changed, both ways, with cost and latency side by side', () => {
    const before = runOf('before', [
      result('a', true, 0.001, 1000),
      result('b', false, 0.002, 2000),
      result('c', true, 0.001, 500),
      result('gone', true, undefined, 1),
    ]);
    const after = runOf('after', [
      result('a', false, 0.0005, 1500),
      result('b', true, 0.003, 1000),
      result('c', true, 0.001, 500),
      result('new', true, undefined, 1),
    ]);
    const comparison = compareRuns(before, after);
    expect(comparison.changed).toEqual([
      { id: 'a', before: true, after: false, why: 'expected a call to tool_a; the agent called no tool' },
      { id: 'b', before: false, after: true, why: 'now passes (was: expected a call to tool_b; the agent called no tool)' },
    ]);
    expect(comparison.added).toEqual(['new']);
    expect(comparison.removed).toEqual(['gone']);
    expect(comparison.text).toMatch(
      /^a\s+pass → FAIL \*\s+100 → 100\s+\$0\.001000 → \$0\.000500 \(−\$0\.000500\)\s+1\.00 s → 1\.50 s \(\+0\.50 s\)/m,
    );
    expect(comparison.text).toMatch(/^b\s+FAIL → pass \*/m);
    expect(comparison.text).toMatch(/^c\s+pass → pass\s/m);
    expect(comparison.text).toContain('pass → FAIL: a: expected a call to tool_a');
    expect(comparison.text).toContain('FAIL → pass: b: now passes');
  });
});
