import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentRegistry } from '../../agents/index.ts';
import { compileAgent } from '../../core/define-agent.ts';
import type { GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { summariseHistory } from '../support/history.ts';
import { answer, callTools, startScriptedModel } from '../support/scripted-model.ts';
import { startIpLocationStandIn, startWeatherStandIn, type StandIn } from '../support/stand-ins.ts';
import { noTemporal, temporalAddress, useTemporal } from '../support/temporal.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import { startWorkerProcess } from '../support/worker-process.ts';



describe.skipIf(noTemporal)('a worker killed in the middle of a run', () => {
  const temporal = useTemporal();
  let model: GeminiServer;
  let weather: StandIn;
  let ipLocation: StandIn;
  const workers: ChildProcess[] = [];
  let killFirstWorker: () => void = () => undefined;

  beforeAll(async () => {
    weather = await startWeatherStandIn();
    ipLocation = await startIpLocationStandIn();
    // Five model calls; the third is slow, and the first worker is killed while it runs.
    model = await startScriptedModel((request) => {
      const step = [
        () => callTools({ name: 'get_ip_location', args: { ip: '8.8.8.8' } }),
        () => callTools({ name: 'get_weather_alerts', args: { state: 'CA' } }),
        () => ({ ...callTools({ name: 'get_ip_location', args: { ip: '1.1.1.1' } }), delayMs: 1500 }),
        () => callTools({ name: 'get_weather_alerts', args: { state: 'NY' } }),
        () => answer('Bay Area: Red Flag Warning. New York: no alerts.'),
      ];
      const seen = model.requests.filter((earlier) => earlier.body.contents.length === request.body.contents.length).length;
      if (request.body.contents.length === 5 && seen === 1) setImmediate(() => killFirstWorker());
      return step[(request.body.contents.length - 1) / 2]!();
    });
  });

  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await model?.close();
    await weather?.close();
    await ipLocation?.close();
  });

  it('resumes on a new worker; every finished model and tool call ran exactly once', async () => {
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

    const agent = createAgentRegistry().get('weather');
    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `crash-${crypto.randomUUID()}`,
      args: [{ spec: compileAgent(agent), prompt: 'Alerts near 8.8.8.8 and 1.1.1.1?' }],
    });

    await firstExited;
    expect(first.signalCode).toBe('SIGKILL');
    workers.push(await startWorkerProcess(env));

    const result = (await handle.result()) as AgentRunResult;
    expect(result.answer).toBe('Bay Area: Red Flag Warning. New York: no alerts.');
    expect(result.steps).toBe(5);

    // Every tool call that finished ran once: none repeated after the crash.
    expect(ipLocation.calls).toEqual(['/json/8.8.8.8', '/json/1.1.1.1']);
    expect(weather.calls).toEqual(['/alerts/active?area=CA', '/alerts/active?area=NY']);
    // Model calls: the one in flight at the kill (the third) ran twice; every other ran once.
    const perStep = [1, 3, 5, 7, 9].map((length) => model.requests.filter((request) => request.body.contents.length === length).length);
    expect(perStep).toEqual([1, 1, 2, 1, 1]);

    const history = await summariseHistory(handle);
    expect(history.completed).toEqual({ appendToTranscript: 1, callModel: 5, 'tool:get_ip_location': 2, 'tool:get_weather_alerts': 2 });
  });
});
