import { describe, expect, it } from 'vitest';
import { collectRunCosts, formatCostTable, summariseCosts, type RunCost } from '../../temporal-client/costs.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import { answer, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

describe.skipIf(noTemporal)('npm run costs', () => {
  const temporal = useTemporal();

  it('sums what the runs recorded, by agent and by person, over a period', async () => {
    // $1.50 a million input tokens, $9.00 a million output: 100,000 in and 10,000 out cost $0.24.
    const model = await startScriptedModel(() => answer('Done.', { promptTokens: 100_000, outputTokens: 10_000 }));
    try {
      const agent = `costly-${crypto.randomUUID().slice(0, 8)}`;
      const costly = defineAgent({ name: agent, instructions: 'Answer.', limits: { maxTokens: 10_000_000 } });
      const taskQueue = temporal.taskQueue('costs');
      await temporal.startWorker({ taskQueue, tools: [], agents: [costly], modelUrl: model.url });
      const since = new Date(Date.now() - 1000);
      const run = (person?: string) =>
        temporal.client.workflow.execute(AGENT_RUN_WORKFLOW, {
          taskQueue,
          workflowId: `costs-${crypto.randomUUID()}`,
          args: [
            {
              spec: compileAgent(costly),
              prompt: 'Go.',
              ...(person
                ? {
                    conversation: {
                      workflowId: `c-${crypto.randomUUID()}`,
                      channel: { kind: 'none' },
                      approvers: [],
                      requesters: [person],
                    },
                  }
                : {}),
            },
          ],
        });
      await Promise.all([run('U-ANA'), run('U-ANA'), run()]);

      let costs: RunCost[] = [];
      await expect
        .poll(
          async () => {
            costs = (await collectRunCosts(temporal.client, { since, until: new Date(Date.now() + 60_000) })).filter(
              (cost) => cost.agent === agent,
            );
            return costs.length;
          },
          { timeout: 15_000, interval: 300 },
        )
        .toBe(3);
      expect(summariseCosts(costs, (cost) => cost.agent)).toEqual([
        { key: agent, runs: 3, promptTokens: 300_000, cachedTokens: 0, outputTokens: 30_000, cost: 0.72 },
      ]);
      const byPerson = summariseCosts(costs, (cost) => cost.person ?? '(scheduled)');
      expect(byPerson.map((line) => [line.key, line.runs, line.cost])).toEqual([
        ['U-ANA', 2, 0.48],
        ['(scheduled)', 1, 0.24],
      ]);
      expect(formatCostTable('person', byPerson).split('\n')[1]).toMatch(/^U-ANA\s+2\s+200000\s+0%\s+20000\s+0\.4800$/);
      // A period that ended before the runs has none of them.
      expect(
        (await collectRunCosts(temporal.client, { since: new Date(since.getTime() - 60_000), until: since })).filter(
          (cost) => cost.agent === agent,
        ),
      ).toEqual([]);
    } finally {
      await model.close();
    }
  });
});
