import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMBIENT_RUN_WORKFLOW, type AmbientRunInput } from '../../core/ambient.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { failureOf } from '../../local/run-failure.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import { answer, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

/**
 * The Ambient pane says why a run failed, in one line. The case it was made for: an email
 * trigger on a worker that was given no mail domain (what `npm start` did before it passed one).
 */
const mailer = defineAgent({
  name: 'mailer',
  instructions: 'Report.',
  triggers: [{ id: 'daily', every: '1 day', prompt: 'Anything new?', deliver: { kind: 'email', to: ['ana@example.com'] } }],
});

describe.skipIf(noTemporal)('why an ambient run failed', () => {
  const temporal = useTemporal();
  let model: GeminiServer;
  let taskQueue: string;
  beforeAll(async () => {
    model = await startScriptedModel(() => answer('Something new.'));
    taskQueue = temporal.taskQueue('run-failure');
    // No agentEmailDomain: the email trigger cannot say where its mail comes from.
    await temporal.startWorker({ taskQueue, tools: [], agents: [mailer], modelUrl: model.url, replyAdapters: {} });
  });
  afterAll(async () => {
    await model?.close();
  });

  it('is the run’s own one-line reason, naming the setting to give', async () => {
    const handle = await temporal.client.workflow.start<(input: AmbientRunInput) => Promise<unknown>>(AMBIENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `ambient:mailer:daily-${crypto.randomUUID()}`,
      args: [{ agent: 'mailer', trigger: mailer.triggers[0]!, origin: 'definition' }],
    });
    // It fails before it can record anything: the workflow itself fails, and the pane used to say only "failed".
    await expect(handle.result()).rejects.toThrow();
    const reason = await failureOf(temporal.client, { workflowId: handle.workflowId, firstExecutionRunId: handle.firstExecutionRunId });
    expect(reason).toMatch(/EMAIL_AGENT_DOMAIN is not set/);
    expect(reason).not.toContain('\n');
    expect(reason!.length).toBeLessThanOrEqual(200);
  });
});
