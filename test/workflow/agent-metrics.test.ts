import { Runtime } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sendApproval } from '../../temporal-client/send-message.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { Content } from '../../core/spec.ts';
import { freePort } from '../../local/free-port.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { APPROVAL_GAUGES } from '../../telemetry/approvals-waiting.ts';
import { createOperationsPublisher } from '../../telemetry/operations-publisher.ts';
import { APPROVAL_WAIT_METRIC } from '../../workflows/approvals.ts';
import { conversationDriver, incoming } from './conversation-helpers.ts';

const port = await freePort();
const flaky = defineTool({
  name: 'flaky_lookup',
  description: 'Fails once, then answers.',
  input: z.object({ key: z.string().describe('What to look up.') }),
  retry: { maximumAttempts: 2, initialInterval: '10 ms' },
  async handler() {
    attempts += 1;
    if (attempts === 1) throw new Error('upstream hiccup');
    return { value: 42 };
  },
});
let attempts = 0;
const counter = defineAgent({ name: 'counter', model: 'gemini-metrics-test', instructions: 'Count.', tools: [flaky] });
const openGate = defineTool({
  name: 'open_gate',
  description: 'Opens the gate.',
  input: z.object({ gate: z.string().describe('Which gate.') }),
  approval: true,
  handler: ({ gate }) => ({ opened: gate }),
});
const gatekeeper = defineAgent({
  name: 'gatekeeper',
  model: 'gemini-metrics-test',
  instructions: 'Guard.',
  tools: [openGate],
  approvalTimeout: '5 minutes',
});

/** Prometheus text lines of one metric, as label sets with their values. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const labels = Object.fromEntries(
        [...(/\{(.*)\}/.exec(line)?.[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]),
      );
      return { labels, value: Number(line.split(' ').at(-1)) };
    });
}

/**
 * After one run, the worker's Prometheus endpoint shows the SDK's worker metrics and the
 * agents' own, labelled by agent, model and tool: names, never content.
 */
describe.skipIf(noTemporal)('agent metrics on the worker Prometheus endpoint', () => {
  const temporal = useTemporal({
    runtime: { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}`, countersTotalSuffix: true } } } },
  });

  it('counts model calls and tokens by agent and model, and tool calls, failures and latency by tool', async () => {
    const model = await startScriptedModel([
      callTools({ name: 'flaky_lookup', args: { key: 'answer' } }),
      answer('It is 42.', { promptTokens: 30, outputTokens: 5 }),
    ]);
    try {
      const taskQueue = temporal.taskQueue('metrics');
      await temporal.startWorker({ taskQueue, tools: [], agents: [counter], modelUrl: model.url });
      await temporal.client.workflow.execute(AGENT_RUN_WORKFLOW, {
        taskQueue,
        workflowId: `metrics:${crypto.randomUUID()}`,
        args: [{ spec: compileAgent(counter), prompt: 'what is it?' }],
      });

      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      await expect.poll(async () => samples(await scrape(), 'agent_model_calls_total').length, { timeout: 10_000 }).toBeGreaterThan(0);
      const text = await scrape();
      const ofCounter = (labels: Record<string, string>) => (sample: { labels: Record<string, string> }) =>
        Object.entries(labels).every(([key, value]) => sample.labels[key] === value);
      // Model calls run as local activities of the workflow's worker, so the main queue's meter counts them.
      expect(
        samples(text, 'agent_model_calls_total').find(
          ofCounter({ agent: 'counter', model: 'gemini-metrics-test', outcome: 'ok', taskQueue }),
        )?.value,
      ).toBe(2);
      expect(
        samples(text, 'agent_model_tokens_total').find(ofCounter({ agent: 'counter', model: 'gemini-metrics-test', kind: 'prompt' }))
          ?.value,
      ).toBeGreaterThanOrEqual(30);
      expect(samples(text, 'agent_tool_calls_total').find(ofCounter({ tool: 'flaky_lookup', outcome: 'error' }))?.value).toBe(1);
      expect(samples(text, 'agent_tool_calls_total').find(ofCounter({ tool: 'flaky_lookup', outcome: 'ok' }))?.value).toBe(1);
      expect(samples(text, 'agent_tool_failures_total').find(ofCounter({ tool: 'flaky_lookup' }))?.value).toBe(1);
      expect(samples(text, 'agent_tool_duration_count').find(ofCounter({ tool: 'flaky_lookup', outcome: 'ok' }))?.value).toBe(1);
      // The SDK's own worker metrics share the endpoint.
      expect(text).toMatch(/^temporal_activity_execution_latency/m);
      // Labels are names: no prompt or answer text.
      expect(text).not.toContain('what is it');
      expect(text).not.toContain('It is 42');
    } finally {
      await model.close();
    }
  });

  it("counts each call's cost by agent and model, and the cache hit rate by agent", async () => {
    // gemini-3.5-flash: 600,000 fresh input at $1.50, 400,000 cached at $0.15, 100,000 output at $9.00 per million: $1.86.
    const model = await startScriptedModel([answer('Priced.', { promptTokens: 1_000_000, cachedTokens: 400_000, outputTokens: 100_000 })]);
    try {
      const pricey = defineAgent({ name: 'pricey', instructions: 'Answer.', tools: [] });
      const taskQueue = temporal.taskQueue('cost-metrics');
      await temporal.startWorker({ taskQueue, tools: [], agents: [pricey], modelUrl: model.url });
      const result = await temporal.client.workflow.execute(AGENT_RUN_WORKFLOW, {
        taskQueue,
        workflowId: `metrics:${crypto.randomUUID()}`,
        args: [{ spec: compileAgent(pricey), prompt: 'price it' }],
      });
      expect(result.usage).toMatchObject({ cachedTokens: 400_000, cost: 1.86 });
      const scrape = async () =>
        samples(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'agent_cost_total').find(
          (sample) => sample.labels.agent === 'pricey',
        );
      await expect.poll(async () => (await scrape())?.value, { timeout: 10_000 }).toBe(1_860_000);
      expect((await scrape())?.labels.model).toBe('gemini-3.5-flash');
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(samples(text, 'agent_cache_hit_rate_sum').find((sample) => sample.labels.agent === 'pricey')?.value).toBe(40);
    } finally {
      await model.close();
    }
  });

  it("shows the approvals waiting and the oldest one's age by agent while a run waits, and the wait by outcome once decided", async () => {
    const model = await startScriptedModel((request) =>
      (request.body.contents as Content[]).at(-1)!.parts.some((part) => part.functionResponse)
        ? answer('The gate is open.')
        : callTools({ name: 'open_gate', args: { gate: 'north' } }),
    );
    try {
      const taskQueue = temporal.taskQueue('approval-metrics');
      await temporal.startWorker({ taskQueue, tools: [], agents: [gatekeeper], modelUrl: model.url });
      // As worker/main.ts runs it on a timer, with the Runtime's meter (this file's Prometheus endpoint).
      const publisher = createOperationsPublisher({
        client: temporal.client,
        namespace: 'default',
        taskQueue,
        meter: Runtime.instance().metricMeter,
        agents: ['gatekeeper'],
      });
      const gauge = async (name: string) => {
        await publisher.publishOnce();
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return samples(text, name).find((sample) => sample.labels.agent === 'gatekeeper' && sample.labels.taskQueue === taskQueue)?.value;
      };
      expect(await gauge(APPROVAL_GAUGES.waiting)).toBe(0);

      const chat = conversationDriver(temporal.client, taskQueue, gatekeeper.name);
      await chat.send(incoming('please open the north gate'));
      await expect.poll(async () => (await chat.pendingApprovals()).length, { timeout: 10_000 }).toBe(1);
      await expect.poll(() => gauge(APPROVAL_GAUGES.waiting), { timeout: 10_000, interval: 250 }).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await gauge(APPROVAL_GAUGES.oldestWait)).toBeGreaterThanOrEqual(1);

      const [request] = await chat.pendingApprovals();
      await sendApproval(temporal.client, chat.conversationId, { requestId: request!.requestId, decision: 'approve', approver: 'U-ASKER' });
      await chat.waitForTurn(1);
      await expect.poll(() => gauge(APPROVAL_GAUGES.waiting), { timeout: 10_000, interval: 250 }).toBe(0);
      expect(await gauge(APPROVAL_GAUGES.oldestWait)).toBe(0);
      // Recorded by the run when the decision landed (workflow metric, never in replay).
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const waited = samples(text, `${APPROVAL_WAIT_METRIC}_count`).find(
        (sample) => sample.labels.agent === 'gatekeeper' && sample.labels.outcome === 'approved',
      );
      expect(waited?.value).toBe(1);
      expect(
        Number(samples(text, `${APPROVAL_WAIT_METRIC}_sum`).find((sample) => sample.labels.agent === 'gatekeeper')?.value),
      ).toBeGreaterThanOrEqual(1_000);
    } finally {
      await model.close();
    }
  });
});
