import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { currentTimeTool } from '../../agents/tools/current-time.ts';
import {
  encryptedDataConverter,
  encryptedWorkerDataConverter,
  newPayloadKeyJson,
  parsePayloadKeys,
  type PayloadKeySet,
} from '../../temporal-client/payload-encryption.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import * as z from 'zod';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { temporal as proto } from '@temporalio/proto';
import { tracingWorkerOptions } from '../../telemetry/worker-tracing.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const keys = (...ids: string[]) => parsePayloadKeys(JSON.stringify({ keys: ids.map((id) => newPayloadKeyJson(id)) }), 'test keys');
// A tool whose failure quotes personal data, as an error from a real service might.
const lookupTool = defineTool({
  name: 'lookup_account',
  description: 'Finds an account.',
  input: z.object({ email: z.string().describe('The account holder.') }),
  retry: { maximumAttempts: 1 },
  async handler({ email }) {
    throw new Error(`no account for ${email}`);
  },
});
const agent = defineAgent({ name: 'encrypted-assistant', instructions: 'Be brief.', tools: [currentTimeTool] });

/**
 * A run written through the codec, then replayed as a worker after a key rotation would:
 * the old key is still in the set, so the history decodes and replays; without the codec,
 * or without the old key, it does not.
 */
describe.skipIf(noTemporal)('replaying an encrypted history', () => {
  const temporal = useTemporal();
  let model: GeminiServer | undefined;
  afterAll(() => model?.close());

  const replay = (history: proto.api.history.v1.IHistory, workflowId: string, payloadKeys?: PayloadKeySet) =>
    Worker.runReplayHistory(
      {
        workflowBundle: { code: inject('workflowBundleCode') },
        sinks: tracingWorkerOptions(undefined).sinks,
        ...(payloadKeys ? { dataConverter: encryptedDataConverter(payloadKeys) } : {}),
      },
      history,
      workflowId,
    );

  it('replays after a rotation, and not without its key', async () => {
    const before = keys('2026-11');
    model = await startScriptedModel([
      callTools({ name: 'get_current_time', args: { timezone: 'America/Argentina/Ushuaia' } }),
      answer('It is morning in Ushuaia.'),
    ]);
    const taskQueue = temporal.taskQueue('encrypted');
    await temporal.startWorker({ taskQueue, tools: agent.tools, modelUrl: model.url, dataConverter: encryptedDataConverter(before) });
    const client = new Client({ connection: temporal.client.connection, dataConverter: encryptedDataConverter(before) });
    const workflowId = `encrypted-${crypto.randomUUID()}`;
    const handle = await client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [{ spec: compileAgent(agent), prompt: 'What time is it at the end of the world?' }],
    });
    expect(await handle.result()).toMatchObject({ answer: 'It is morning in Ushuaia.' });

    const history = await handle.fetchHistory();
    const raw = Buffer.from(proto.api.history.v1.History.encode(history).finish()).toString('latin1');
    for (const clear of ['Ushuaia', 'end of the world', 'Be brief']) expect(raw).not.toContain(clear);

    const rotated = [...keys('2026-12'), ...before] as unknown as PayloadKeySet;
    await replay(history, workflowId, rotated);
    const why = (replaying: Promise<void>) =>
      replaying.then(
        () => 'replayed',
        (error: Error) => `${error.message} ${(error.cause as Error | undefined)?.message ?? ''}`,
      );
    expect(await why(replay(history, workflowId))).toMatch(/Unknown encoding: binary\/encrypted/);
    const second = await why(replay(history, workflowId, keys('2026-12')));
    // The failure's message comes quoted inside the replay error's details.
    expect(second).toMatch(/encrypted with key \\?"2026-11\\?", which is not in the key set \(2026-12\)/);
  }, 60_000);

  it("keeps a failure's message and stack trace out of clear with the worker's converter", async () => {
    const payloadKeys = keys('k1');
    model = await startScriptedModel([
      callTools({ name: 'lookup_account', args: { email: 'mulder@example.org' } }),
      answer('There is no such account.'),
    ]);
    const taskQueue = temporal.taskQueue('encrypted-failure');
    await temporal.startWorker({
      taskQueue,
      tools: [lookupTool],
      modelUrl: model.url,
      dataConverter: encryptedWorkerDataConverter(payloadKeys),
    });
    const client = new Client({ connection: temporal.client.connection, dataConverter: encryptedDataConverter(payloadKeys) });
    const spec = compileAgent(defineAgent({ name: 'encrypted-lookup', instructions: 'Be brief.', tools: [lookupTool] }));
    const handle = await client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `encrypted-failure-${crypto.randomUUID()}`,
      args: [{ spec, prompt: 'Find my account.' }],
    });
    expect(await handle.result()).toMatchObject({ answer: 'There is no such account.' });
    const history = await handle.fetchHistory();
    const failed = (history.events ?? []).filter((event) => event.activityTaskFailedEventAttributes);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.activityTaskFailedEventAttributes!.failure!.message).toBe('Encoded failure');
    const raw = Buffer.from(proto.api.history.v1.History.encode(history).finish()).toString('latin1');
    expect(raw).not.toContain('mulder@example.org');
  }, 60_000);
});
