import { describe, expect, it } from 'vitest';
import { sendContext } from '../../temporal-client/send-message.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { answer, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { conversationDriver, incoming } from './conversation-helpers.ts';

/**
 * Runs are searchable by names, never by content: a visibility query by the agent finds
 * exactly that agent's conversation and its turn's run, with the channel, the trigger and the
 * run's outcome beside them, and the Web UI's current details read as a sentence.
 */
describe.skipIf(noTemporal)('searchable runs', () => {
  const temporal = useTemporal();
  const suffix = crypto.randomUUID().slice(0, 8);
  const alpha = defineAgent({ name: `alpha-${suffix}`, instructions: 'Answer.' });
  const beta = defineAgent({ name: `beta-${suffix}`, instructions: 'Answer.' });

  it("finds exactly one agent's runs by AgentName, with ChannelKind, TriggerKind and Outcome set", async () => {
    const model = await startScriptedModel(() => answer('Done.'));
    try {
      const taskQueue = temporal.taskQueue('search');
      await temporal.startWorker({ taskQueue, tools: [], agents: [alpha, beta], modelUrl: model.url });
      const alphaChat = conversationDriver(temporal.client, taskQueue, alpha.name);
      const betaChat = conversationDriver(temporal.client, taskQueue, beta.name);
      await Promise.all([alphaChat.send(incoming('secret plans for alpha')), betaChat.send(incoming('beta question'))]);
      await Promise.all([alphaChat.waitForTurn(1), betaChat.waitForTurn(1)]);

      const list = async (query: string) => {
        const found: { workflowId: string; type: string; attributes: Record<string, unknown> }[] = [];
        for await (const execution of temporal.client.workflow.list({ query })) {
          const attributes = Object.fromEntries(execution.typedSearchAttributes.getAll().map((pair) => [pair.key.name, pair.value]));
          found.push({ workflowId: execution.workflowId, type: execution.type, attributes });
        }
        return found.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
      };
      // Visibility lags the executions a little: poll until the run's outcome shows.
      const query = `AgentName = '${alpha.name}'`;
      await expect
        .poll(async () => (await list(query)).map((execution) => execution.attributes.Outcome ?? null), { timeout: 20_000, interval: 250 })
        .toContain('answer');
      const found = await list(query);
      expect(found.map((execution) => [execution.type, execution.workflowId])).toEqual([
        ['conversation', alphaChat.conversationId],
        ['agentRun', `${alphaChat.conversationId}/turn-1`],
      ]);
      // (Temporal adds BuildIds of its own.)
      expect(found[0]!.attributes).toMatchObject({ AgentName: alpha.name, ChannelKind: 'none', TriggerKind: 'message' });
      expect(found[0]!.attributes.Outcome).toBeUndefined();
      expect(found[1]!.attributes).toMatchObject({ AgentName: alpha.name, ChannelKind: 'none', TriggerKind: 'turn', Outcome: 'answer' });
      // No message text in any attribute.
      expect(JSON.stringify(found)).not.toContain('secret plans');

      // The list reads like a sentence: the conversation's current details, the run's summary.
      expect(await (await alphaChat.handle.describe()).staticSummary()).toBe(`${alpha.name} · none conversation`);
      // The Web UI reads current details through this built-in query.
      const details = async () =>
        ((await alphaChat.handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails;
      expect(await details()).toBe(`${alpha.name} · none · turn 1 · answer`);
      expect(await (await temporal.client.workflow.getHandle(`${alphaChat.conversationId}/turn-1`).describe()).staticSummary()).toBe(
        `${alpha.name} · none · turn 1`,
      );
    } finally {
      await model.close();
    }
  });
  it('gives a conversation started by a context update (before any message) the same attributes and summary', async () => {
    const taskQueue = temporal.taskQueue('search-context');
    // A context update calls no model.
    await temporal.startWorker({ taskQueue, tools: [], agents: [alpha], modelUrl: 'http://127.0.0.1:9' });
    const conversationId = `context-${crypto.randomUUID()}`;
    await sendContext(temporal.client, {
      conversationId,
      taskQueue,
      start: { agent: alpha.name, channel: { kind: 'none' } },
      context: { channelId: 'C1', by: 'U1' },
      updateId: `context-${conversationId}`,
    });
    const described = await temporal.client.workflow.getHandle(conversationId).describe();
    const attributes = Object.fromEntries(described.typedSearchAttributes.getAll().map((pair) => [pair.key.name, pair.value]));
    expect(attributes).toMatchObject({ AgentName: alpha.name, ChannelKind: 'none', TriggerKind: 'message' });
    expect(await described.staticSummary()).toBe(`${alpha.name} · none conversation`);
  });
});
