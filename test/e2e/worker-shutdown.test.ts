import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentRegistry } from '../../agents/index.ts';
import { compileAgent } from '../../authoring/define-agent.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';
import { startWorkerProcess } from '../../testkit/worker-process.ts';
import { openTestPayload } from '../../testkit/payload-keys.ts';
import type { ModelStepResult } from '../../core/contracts/model.ts';
import type { Payload } from '@temporalio/common';
import type { AgentSpec } from '../../core/spec.ts';

/** How long the IP lookup takes: the worker is told to stop while it runs. */
const SLOW_MS = 2500;

/**
 * A deploy or a scale-in: ECS sends the worker SIGTERM. The tool call it is running finishes
 * and is recorded, once; the worker then exits by itself, and another worker takes the run on.
 */
describe.skipIf(noTemporal)('a worker told to stop in the middle of a tool call', () => {
  const temporal = useTemporal();
  let model: GeminiServer;
  let lookups: Server;
  let lookupsUrl: string;
  const calls: string[] = [];
  let onLookup: () => void = () => undefined;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    // ip-api.com's /json/{ip}, slowly.
    lookups = createServer((request, response) => {
      calls.push(request.url ?? '');
      onLookup();
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            status: 'success',
            query: '8.8.8.8',
            city: 'Mountain View',
            regionName: 'California',
            region: 'CA',
            country: 'United States',
            lat: 37.4,
            lon: -122.1,
            timezone: 'America/Los_Angeles',
          }),
        );
      }, SLOW_MS);
    });
    await new Promise<void>((resolve) => lookups.listen(0, '127.0.0.1', resolve));
    lookupsUrl = `http://127.0.0.1:${(lookups.address() as AddressInfo).port}`;
    model = await startScriptedModel((request) =>
      request.body.contents.length === 1
        ? callTools({ name: 'get_ip_location', args: { ip: '8.8.8.8' } })
        : answer('Mountain View, California.'),
    );
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await model?.close();
    lookups?.closeAllConnections();
    await new Promise((resolve) => lookups?.close(resolve));
  });

  // The weather agent's lookup is read-only: it runs inside its model call. With the flag taken
  // out of the spec, the run makes it an activity, as it does every side-effecting tool.
  it.each([
    { shape: 'an activity', readOnly: false },
    { shape: 'inside its model call', readOnly: true },
  ])('finishes the tool call ($shape), records it once, and exits; the next worker finishes the run', async ({ readOnly }) => {
    calls.length = 0;
    const env = {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: temporal.taskQueue('shutdown'),
      SCHEDULES_SYNC_AT_START: 'false',
      GOOGLE_API_KEY: 'test-key',
      GEMINI_BASE_URL: model.url,
      IP_API_BASE_URL: lookupsUrl,
      TRANSCRIPT_DIR: mkdtempSync(join(tmpdir(), 'shutdown-transcripts-')),
    };
    const first = await startWorkerProcess(env);
    workers.push(first);
    const exited = new Promise<number | null>((resolve) => first.once('exit', resolve));
    const lookupStarted = new Promise<void>((resolve) => (onLookup = resolve));

    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      workflowId: `shutdown-${crypto.randomUUID()}`,
      args: [{ spec: weatherSpec(readOnly), prompt: 'Where is 8.8.8.8?' }],
    });
    await lookupStarted;
    const stopAsked = Date.now();
    first.kill('SIGTERM');
    // It waits for the lookup, then leaves on its own.
    expect(await exited).toBe(0);
    expect(Date.now() - stopAsked).toBeGreaterThan(SLOW_MS - 500);

    workers.push(await startWorkerProcess(env));
    const result = (await handle.result()) as AgentRunResult;
    expect(result).toMatchObject({ answer: 'Mountain View, California.', steps: 2, toolCalls: 1 });
    expect(calls).toEqual(['/json/8.8.8.8']);
    const history = await summariseHistory(handle);
    expect(history.failedAttempts).toBe(0);
    if (!readOnly) {
      expect(history.completed['tool:get_ip_location']).toBe(1);
      return;
    }
    // Recorded once: the read-only lookup ran inside its model call, whose marker holds its result.
    expect(history.completed).toEqual({ appendToTranscript: 1, callModel: 2 });
    const markers = history.events.flatMap((event) => event.markerRecordedEventAttributes?.details?.result?.payloads ?? []);
    const steps = (await Promise.all(markers.map((payload) => openTestPayload(payload as Payload)))) as ModelStepResult[];
    expect(steps.flatMap((step) => step.toolResults ?? []).map((result) => result.name)).toEqual(['get_ip_location']);
  });
});

function weatherSpec(readOnly: boolean): AgentSpec {
  const spec = compileAgent(createAgentRegistry().get('weather'));
  if (readOnly) return spec;
  return { ...spec, tools: spec.tools.map(({ readOnly: _flag, ...tool }) => tool) };
}
