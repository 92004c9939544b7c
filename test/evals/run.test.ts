import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAgentRegistry, type AgentRegistry } from '../../agents/index.ts';
import { parseCase, type EvalCase } from '../../eval/case.ts';
import { exportRecorded } from '../../eval/export.ts';
import { createJudge, type Judge } from '../../eval/judge.ts';
import { evalOfflineModel } from '../../eval/offline-model.ts';
import { compareRuns } from '../../eval/report.ts';
import { runCases, type EvalConfiguration, type LoadedCase } from '../../eval/run-cases.ts';
import { startGeminiServer, type GeminiServer } from '../../local/gemini-server.ts';
import { conversationDriver, incoming } from '../workflow/conversation-helpers.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const temporal = useTemporal();

describe.skipIf(noTemporal)('evals from recorded conversations', () => {
  let model: GeminiServer;
  let registry: AgentRegistry;
  let recordingQueue: string;
  const expensesFile = join(mkdtempSync(join(tmpdir(), 'eval-expenses-')), 'expenses.jsonl');

  beforeAll(async () => {
    model = await startGeminiServer({ apiKey: 'test-key', respond: evalOfflineModel });
    // The example agents, filing claims into a file of this test's: it must never be written by an eval.
    registry = createAgentRegistry({ expensesFile });
    recordingQueue = temporal.taskQueue('recording');
    await temporal.startWorker({ taskQueue: recordingQueue, tools: registry.tools, agents: registry.agents.values(), modelUrl: model.url });
  });
  afterAll(async () => {
    await model?.close();
  });

  const run = (cases: LoadedCase[], configuration: EvalConfiguration = { label: 'as defined' }, judge?: Judge) =>
    runCases({
      ...(judge ? { judge } : {}),
      client: temporal.client,
      connection: temporal.connection,
      agent: registry.get('assistant'),
      cases,
      configuration,
      store: temporal.store,
      gemini: { apiKey: 'test-key', baseUrl: model.url },
      modelKind: 'offline',
      workflowBundle: { code: inject('workflowBundleCode') },
    });
  const loaded = (...cases: EvalCase[]): LoadedCase[] => cases.map((evalCase) => ({ file: `${evalCase.id}.json`, evalCase }));

  /** A two-turn conversation, recorded by the conversation workflow as a Slack thread is; exported. */
  async function recordAndExport(): Promise<EvalCase[]> {
    const conversation = conversationDriver(temporal.client, recordingQueue, 'assistant');
    await conversation.send(incoming('What time is it in Tokyo right now?'));
    await conversation.waitForTurn(1);
    await conversation.send(incoming('And what is 2^10?'));
    await conversation.waitForTurn(2);
    const { cases, skipped } = await exportRecorded({ client: temporal.client, store: temporal.store, agents: registry.agents }, [
      conversation.conversationId,
    ]);
    expect(skipped).toEqual([]);
    return cases;
  }

  let exported: EvalCase[];

  it('exports each turn of a conversation, and runs them back: they pass unchanged', async () => {
    exported = await recordAndExport();
    expect(exported.map((evalCase) => evalCase.prompt)).toEqual(['What time is it in Tokyo right now?', 'And what is 2^10?']);
    const [tokyo, power] = exported;
    expect(tokyo!.context).toEqual([]);
    expect(tokyo!.recorded.toolCalls).toEqual([
      {
        tool: 'get_current_time',
        args: { timezone: 'Asia/Tokyo' },
        outcome: { ok: true, result: expect.objectContaining({ timezone: 'Asia/Tokyo' }) },
      },
    ]);
    expect(tokyo!.expect).toMatchObject({ toolsCalled: ['get_current_time'], maxSteps: 4 });
    // The second turn carries the first as its context: the question, the call, its result, the answer.
    expect(power!.context).toHaveLength(4);
    expect(power!.recorded.toolCalls).toEqual([
      { tool: 'calculate', args: { expression: '2^10' }, outcome: { ok: true, result: { expression: '2^10', value: 1024 } } },
    ]);
    // No user ids, names or channels in a case: only the turn's words and what the tools said.
    expect(JSON.stringify(exported)).not.toMatch(/U-ASKER|Asker/);

    const result = await run(loaded(...exported));
    expect(result.cases.map((one) => [one.id, one.pass, one.failures])).toEqual(exported.map((evalCase) => [evalCase.id, true, []]));
    // The recorded results answered; the answer is the recorded one, to the second.
    expect(result.cases[0]!.answered).toEqual([{ tool: 'get_current_time', args: { timezone: 'Asia/Tokyo' }, answeredBy: 'recording' }]);
    expect(result.cases[0]!.answer).toBe(tokyo!.recorded.answer);
    expect(result.summary).toMatchObject({ passed: 2, total: 2, passRate: 1 });
    expect(result.summary.tokens).toBeGreaterThan(0);
  });

  it('fails a case with a reason naming the tool when a prompt change stops the agent calling it; two configurations show the changed cases', async () => {
    const cases = loaded(...exported);
    const before = await run(cases);
    const after = await run(cases, {
      label: 'no tools',
      instructions: 'You are a helpful assistant. Do not use any tools; answer from what you know.',
    });
    expect(after.cases[0]).toMatchObject({ pass: false, calls: [] });
    expect(after.cases[0]!.failures).toContain('expected a call to get_current_time; the agent called no tool');
    expect(after.cases[1]!.failures).toContain('expected a call to calculate; the agent called no tool');

    const comparison = compareRuns(before, after);
    expect(comparison.changed).toEqual([
      { id: exported[0]!.id, before: true, after: false, why: 'expected a call to get_current_time; the agent called no tool' },
      { id: exported[1]!.id, before: true, after: false, why: 'expected a call to calculate; the agent called no tool' },
    ]);
    expect(comparison.text).toContain(`pass → FAIL: ${exported[0]!.id}: expected a call to get_current_time`);
    expect(comparison.text).toMatch(/total\s+2\/2 → 0\/2/);
    // And back: the baseline against the regression shows both fixed.
    expect(compareRuns(after, before).changed.map((change) => [change.before, change.after])).toEqual([
      [false, true],
      [false, true],
    ]);
  });

  it('never runs a side-effecting tool, even when the model calls it; a read-only one runs only when the case allows it', async () => {
    const unrecorded = parseCase(
      {
        version: 1,
        id: 'claim',
        agent: 'assistant',
        prompt: 'Please file an expense claim for 42 EUR for the team lunch',
        liveTools: true,
        expect: { toolsCalled: ['expenses'] },
      },
      'claim',
    );
    const recordedElsewhere = parseCase(
      {
        version: 1,
        id: 'claim-other-args',
        agent: 'assistant',
        prompt: 'Please file an expense claim for 43 EUR for the team lunch',
        liveTools: true,
        // A recording of another call of the same tool does not answer this one.
        recorded: {
          toolCalls: [
            { tool: 'submit_expense', args: { amountEur: 42, description: 'lunch' }, outcome: { ok: true, result: { filed: true } } },
          ],
        },
      },
      'claim-other-args',
    );
    const liveRead = parseCase(
      {
        version: 1,
        id: 'sum',
        agent: 'assistant',
        prompt: 'What is 12 * 7?',
        liveTools: ['calculate'],
        expect: { answer: { contains: ['84'] } },
      },
      'sum',
    );
    const notAllowed = parseCase(
      { version: 1, id: 'sum-recorded-only', agent: 'assistant', prompt: 'What is 12 * 7?' },
      'sum-recorded-only',
    );
    const result = await run(loaded(unrecorded, recordedElsewhere, liveRead, notAllowed));
    const [claim, other, sum, recordedOnly] = result.cases;
    // The model called submit_expense (through the expenses agent); the tool did not run.
    expect(claim!.calls.map((call) => [call.agent, call.tool])).toEqual([
      ['assistant', 'expenses'],
      ['expenses', 'submit_expense'],
    ]);
    expect(claim!.answered).toEqual([
      { tool: 'submit_expense', args: { amountEur: 42, description: expect.any(String) }, answeredBy: 'not-run' },
    ]);
    expect(claim!.answer).toContain('submit_expense tool did not run: submit_expense changes something, so it never runs in an eval');
    expect(other!.answered).toEqual([expect.objectContaining({ tool: 'submit_expense', answeredBy: 'not-run' })]);
    expect(existsSync(expensesFile)).toBe(false);
    // calculate only reads: allowed, it ran for real; not allowed and not recorded, it did not.
    expect(sum).toMatchObject({ pass: true, answered: [{ tool: 'calculate', answeredBy: 'live' }] });
    expect(sum!.answer).toContain('= 84');
    expect(recordedOnly).toMatchObject({ answered: [{ tool: 'calculate', answeredBy: 'not-run' }] });
    expect(recordedOnly!.answer).toContain('no recorded result for calculate');
  });

  it('records the approvals a run asks for (nobody decides in an eval, so the call does not run)', async () => {
    const large = parseCase(
      {
        version: 1,
        id: 'large-claim',
        agent: 'assistant',
        prompt: 'Please file an expense claim for 420 EUR for the conference ticket',
        recorded: {
          toolCalls: [
            {
              tool: 'submit_expense',
              args: { amountEur: 420, description: 'Please file an expense claim for 420 EUR for the conference ticket' },
              outcome: { ok: true, result: { filed: true } },
            },
          ],
        },
        expect: { approvals: ['submit_expense'], answer: { notContains: ['Filed expense claim'] } },
      },
      'large-claim',
    );
    const [result] = (await run(loaded(large))).cases;
    expect(result).toMatchObject({ pass: true, approvals: [{ tool: 'submit_expense', outcome: 'unavailable' }], answered: [] });
    expect(existsSync(expensesFile)).toBe(false);
  });

  it("keeps a judge model's verdict and reason, and fails the case the judge fails", async () => {
    // The judge's stand-in grades by the rubric's one rule: the answer must name the zone it used.
    const judgeModel = await startGeminiServer({
      apiKey: 'test-key',
      respond: (request) => {
        const text = request.body.contents.flatMap((content) => content.parts.map((part) => part.text ?? '')).join('\n');
        const answer = text.split('Answer:\n')[1] ?? '';
        const verdict = answer.includes('Asia/Tokyo')
          ? { verdict: 'pass', reason: 'It names Asia/Tokyo.' }
          : { verdict: 'fail', reason: 'It names no time zone.' };
        return { content: { role: 'model', parts: [{ text: JSON.stringify(verdict) }] } };
      },
    });
    try {
      const judge = createJudge({ apiKey: 'test-key', baseUrl: judgeModel.url });
      const graded = parseCase({ ...exported[0]!, expect: { rubric: 'The answer names the time zone it used.' } }, 'graded');
      const [kept] = (await run(loaded(graded), { label: 'as defined' }, judge)).cases;
      expect(kept).toMatchObject({ pass: true, judge: { verdict: 'pass', reason: 'It names Asia/Tokyo.' } });
      const [failed] = (await run(loaded(graded), { label: 'no tools', instructions: 'Do not use any tools.' }, judge)).cases;
      expect(failed).toMatchObject({ pass: false, judge: { verdict: 'fail', reason: 'It names no time zone.' } });
      expect(failed!.failures).toContain('the judge failed the answer: It names no time zone.');
      expect(judgeModel.requests[0]!.body.systemInstruction?.parts?.[0]?.text).toContain('grade');
    } finally {
      await judgeModel.close();
    }
  });
});
