import { afterEach, describe, expect, it } from 'vitest';
import { calculatorTool } from '../../agents/tools/calculator.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { conversationDriver, incoming } from './conversation-helpers.ts';

// gemini-3.5-flash input is $1.50 a million tokens: a call of 100,000 prompt tokens costs $0.15.
const oneCall = { promptTokens: 100_000, outputTokens: 0 };
const calculate = () => ({ ...callTools({ name: 'calculate', args: { expression: '1+1' } }), usage: oneCall, delayMs: 50 });

describe.skipIf(noTemporal)('budgets in US dollars', () => {
  const temporal = useTemporal();
  let model: GeminiServer | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  it('a per-turn cap stops the next model call; the person reads which cap, and the turn shows its cost', async () => {
    const capped = defineAgent({
      name: 'capped',
      instructions: 'Count.',
      tools: [calculatorTool],
      limits: { maxTokens: 10_000_000 },
      budget: { perRun: 0.25 },
    });
    model = await startScriptedModel([calculate(), calculate(), answer('never reached')]);
    const taskQueue = temporal.taskQueue('budget-turn');
    await temporal.startWorker({ taskQueue, tools: [], agents: [capped], modelUrl: model.url });
    const conversation = conversationDriver(temporal.client, taskQueue, 'capped');
    await conversation.send(incoming('Count for me.'));
    const turn = await conversation.waitForTurn(1);
    expect(turn.stopReason).toBe('budget');
    expect(turn.answerExcerpt).toBe(
      "I stopped: this turn has spent $0.30, its cap of $0.25 (the agent's budget.perRun). The cap starts afresh with your next message.",
    );
    expect(turn.usage).toMatchObject({ promptTokens: 200_000, cost: 0.3 });
    // Two calls: the second started under the cap ($0.15 spent); the third never did.
    expect(model.requests).toHaveLength(2);
  });

  it("an agent's daily cap stops a conversation's turn (model calls on the model queue) with the message saying when it resets", async () => {
    const name = `daily-agent-${crypto.randomUUID().slice(0, 8)}`;
    const capped = defineAgent({
      name,
      instructions: 'Count.',
      tools: [calculatorTool],
      limits: { maxTokens: 10_000_000 },
      budget: { perAgentPerDay: 0.1 },
    });
    model = await startScriptedModel([calculate(), answer('never reached')]);
    const taskQueue = temporal.taskQueue('budget-agent');
    await temporal.startWorker({ taskQueue, tools: [], agents: [capped], modelUrl: model.url });
    const conversation = conversationDriver(temporal.client, taskQueue, name);
    await conversation.send(incoming('Count for me.'));
    const turn = await conversation.waitForTurn(1);
    expect(turn.stopReason).toBe('budget');
    expect(turn.answerExcerpt).toMatch(
      new RegExp(
        `^I stopped: agent "${name}" has spent \\$0\\.15 today, its daily cap of \\$0\\.10 \\(budget\\.perAgentPerDay\\)\\. It resets at 00:00 UTC \\(\\d{4}-\\d{2}-\\d{2} 00:00 UTC, in `,
      ),
    );
    expect(turn.usage?.cost).toBe(0.15);
    expect(model.requests).toHaveLength(1);
  });

  it('two turns of one person at once, against a daily cap, overrun it by at most one call, and both end with outcome budget', async () => {
    const daily = defineAgent({
      name: 'daily',
      instructions: 'Count.',
      tools: [calculatorTool],
      limits: { maxSteps: 30, maxTokens: 10_000_000 },
      budget: { perPersonPerDay: 1 },
    });
    model = await startScriptedModel(() => calculate());
    const taskQueue = temporal.taskQueue('budget-daily');
    await temporal.startWorker({ taskQueue, tools: [], agents: [daily], modelUrl: model.url });
    const person = `U-${crypto.randomUUID().slice(0, 8)}`;
    const start = () =>
      temporal.client.workflow.execute(AGENT_RUN_WORKFLOW, {
        taskQueue,
        workflowId: `budget-${crypto.randomUUID()}`,
        args: [
          {
            spec: compileAgent(daily),
            prompt: 'Count.',
            conversation: {
              workflowId: `conversation-${crypto.randomUUID()}`,
              channel: { kind: 'none' },
              approvers: [],
              requesters: [person],
            },
          },
        ],
      }) as Promise<AgentRunResult>;
    const results = await Promise.all([start(), start()]);
    const spent = results.reduce((sum, result) => sum + (result.usage.cost ?? 0), 0);
    expect(results.map((result) => result.stopReason)).toEqual(['budget', 'budget']);
    expect(spent).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThanOrEqual(1 + 0.15 + 1e-9);
    for (const result of results)
      expect(result.answer).toMatch(
        /^I stopped: you have spent \$1\.\d\d with agent "daily" today, your daily cap of \$1\.00 \(budget\.perPersonPerDay\)\. It resets at 00:00 UTC/,
      );
  });
});
