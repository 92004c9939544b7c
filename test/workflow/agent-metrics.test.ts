import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { compileAgent, defineAgent } from '../../core/define-agent.ts';
import { defineTool } from '../../core/define-tool.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import { freePort } from '../../local/free-port.ts';
import { answer, callTools, startScriptedModel } from '../support/scripted-model.ts';
import { noTemporal, useTemporal } from '../support/temporal.ts';

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

/** Prometheus text lines of one metric, as label sets with their values. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const labels = Object.fromEntries([...(/\{(.*)\}/.exec(line)?.[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]));
      return { labels, value: Number(line.split(' ').at(-1)) };
    });
}

/**
 * After one run, the worker's Prometheus endpoint shows the SDK's worker metrics and the
 * agents' own, labelled by agent, model and tool: names, never content.
 */
describe.skipIf(noTemporal)('agent metrics on the worker Prometheus endpoint', () => {
  const temporal = useTemporal({ runtime: { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}`, countersTotalSuffix: true } } } } });

  it('counts model calls and tokens by agent and model, and tool calls, failures and latency by tool', async () => {
    const model = await startScriptedModel([callTools({ name: 'flaky_lookup', args: { key: 'answer' } }), answer('It is 42.', { promptTokens: 30, outputTokens: 5 })]);
    try {
      const taskQueue = temporal.taskQueue('metrics');
      await temporal.startWorker({ taskQueue, tools: [], agents: [counter], modelUrl: model.url });
      await temporal.client.workflow.execute(AGENT_RUN_WORKFLOW, { taskQueue, workflowId: `metrics:${crypto.randomUUID()}`, args: [{ spec: compileAgent(counter), prompt: 'what is it?' }] });

      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      await expect.poll(async () => samples(await scrape(), 'agent_model_calls_total').length, { timeout: 10_000 }).toBeGreaterThan(0);
      const text = await scrape();
      const ofCounter = (labels: Record<string, string>) => (sample: { labels: Record<string, string> }) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value);
      // Model calls run as local activities of the workflow's worker, so the main queue's meter counts them.
      expect(samples(text, 'agent_model_calls_total').find(ofCounter({ agent: 'counter', model: 'gemini-metrics-test', outcome: 'ok', taskQueue }))?.value).toBe(2);
      expect(samples(text, 'agent_model_tokens_total').find(ofCounter({ agent: 'counter', model: 'gemini-metrics-test', kind: 'prompt' }))?.value).toBeGreaterThanOrEqual(30);
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
});
