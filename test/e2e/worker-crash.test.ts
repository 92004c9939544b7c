import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentRegistry } from '../../agents/index.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { startIpLocationStandIn, startWeatherStandIn, type StandIn } from '../../testkit/stand-ins.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { Payload } from '@temporalio/common';
import type { ModelStepResult } from '../../core/contracts/model.ts';
import { openTestPayload } from '../../testkit/payload-keys.ts';
import { startWorkerProcess } from '../../testkit/worker-process.ts';

describe.skipIf(noTemporal)('a worker killed in the middle of a run', () => {
  const temporal = useTemporal();
  let model: GeminiServer;
  let weather: StandIn;
  let ipLocation: StandIn;
  const workers: ChildProcess[] = [];
  let killFirstWorker: () => void = () => undefined;
  const claim = `crash test claim ${crypto.randomUUID()}`;
  // The worker files claims under its working directory, this test's.
  const claimsFiled = () =>
    existsSync('.data/expenses.jsonl')
      ? readFileSync('.data/expenses.jsonl', 'utf8')
          .split('\n')
          .filter((line) => line.includes(claim)).length
      : 0;

  beforeAll(async () => {
    weather = await startWeatherStandIn();
    ipLocation = await startIpLocationStandIn();
    // Six model calls. The first asks for a side-effecting tool (an activity); the next two for
    // read-only ones (run inside their model calls' local activities, in one workflow task); the
    // fourth is slow, and the first worker is killed while it runs.
    model = await startScriptedModel((request) => {
      const step = [
        () => callTools({ name: 'submit_expense', args: { description: claim, amountEur: 20 } }),
        () => callTools({ name: 'get_ip_location', args: { ip: '8.8.8.8' } }),
        () => callTools({ name: 'get_weather_alerts', args: { state: 'CA' } }),
        () => ({ ...callTools({ name: 'get_ip_location', args: { ip: '1.1.1.1' } }), delayMs: 1500 }),
        () => callTools({ name: 'get_weather_alerts', args: { state: 'NY' } }),
        () => answer('Filed. Bay Area: Red Flag Warning. New York: no alerts.'),
      ];
      const seen = model.requests.filter((earlier) => earlier.body.contents.length === request.body.contents.length).length;
      if (request.body.contents.length === 7 && seen === 1) setImmediate(() => killFirstWorker());
      return step[(request.body.contents.length - 1) / 2]!();
    });
  });

  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await model?.close();
    await weather?.close();
    await ipLocation?.close();
  });

  it('resumes on a new worker; a side-effecting tool ran exactly once, read-only ones may have run again', async () => {
    const taskQueue = temporal.taskQueue('crash');
    const env = {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      // The registry's own schedules stay out of this test's task queue (and out of the stand-ins' call counts).
      SCHEDULES_SYNC_AT_START: 'false',
      GOOGLE_API_KEY: 'test-key',
      GEMINI_BASE_URL: model.url,
      NWS_BASE_URL: weather.url,
      IP_API_BASE_URL: ipLocation.url,
      TRANSCRIPT_DIR: mkdtempSync(join(tmpdir(), 'crash-transcripts-')),
    };
    const first = await startWorkerProcess(env);
    workers.push(first);
    const firstExited = new Promise((resolve) => first.once('exit', resolve));
    killFirstWorker = () => first.kill('SIGKILL');

    const registry = createAgentRegistry();
    const agent = defineAgent({
      name: 'crash-weather-expenses',
      instructions: 'File the claim, then look up alerts.',
      tools: [...registry.get('weather').tools, ...registry.get('expenses').tools.filter((tool) => tool.name === 'submit_expense')],
      limits: { maxSteps: 8 },
    });
    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `crash-${crypto.randomUUID()}`,
      args: [{ spec: compileAgent(agent), prompt: 'Alerts near 8.8.8.8 and 1.1.1.1?' }],
    });

    await firstExited;
    expect(first.signalCode).toBe('SIGKILL');
    workers.push(await startWorkerProcess(env));

    const result = (await handle.result()) as AgentRunResult;
    expect(result.answer).toBe('Filed. Bay Area: Red Flag Warning. New York: no alerts.');
    expect(result.steps).toBe(6);

    // The side-effecting tool, an activity finished before the kill, never ran again.
    expect(claimsFiled()).toBe(1);
    // Read-only tools ran inside their model calls: those whose markers the kill lost ran again, which changes nothing.
    expect(new Set(ipLocation.calls)).toEqual(new Set(['/json/8.8.8.8', '/json/1.1.1.1']));
    expect(new Set(weather.calls)).toEqual(new Set(['/alerts/active?area=CA', '/alerts/active?area=NY']));
    expect(ipLocation.calls.length + weather.calls.length).toBeGreaterThanOrEqual(4);
    // Model calls: the first (recorded with the expense activity) ran once; the one in flight at the kill at least twice.
    const perStep = [1, 3, 5, 7, 9, 11].map((length) => model.requests.filter((request) => request.body.contents.length === length).length);
    expect(perStep[0]).toBe(1);
    expect(perStep[3]).toBeGreaterThanOrEqual(2);

    // History records each call once: the side-effecting one as an activity, the read-only ones in their model calls' markers.
    const history = await summariseHistory(handle);
    expect(history.completed).toEqual({ appendToTranscript: 1, needsApproval: 1, 'tool:submit_expense': 1, callModel: 6 });
    expect(history.local.filter((type) => type.startsWith('tool:'))).toEqual([]);
    const markers = history.events.flatMap((event) => event.markerRecordedEventAttributes?.details?.result?.payloads ?? []);
    const steps = (await Promise.all(markers.map((payload) => openTestPayload(payload as Payload)))) as ModelStepResult[];
    const ranInModelCalls = steps.flatMap((step) => step.toolResults ?? []).map((result) => result.name);
    expect(ranInModelCalls).toEqual(['get_ip_location', 'get_weather_alerts', 'get_ip_location', 'get_weather_alerts']);
  });
});
