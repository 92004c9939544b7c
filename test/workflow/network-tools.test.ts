import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentRegistry } from '../../agents/index.ts';
import { compileAgent } from '../../authoring/define-agent.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { Content } from '../../core/spec.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { startIpLocationStandIn, startWeatherStandIn, type StandIn } from '../../testkit/stand-ins.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

describe.skipIf(noTemporal)('the weather example tools', () => {
  const temporal = useTemporal();
  let weather: StandIn;
  let ipLocation: StandIn;
  beforeAll(async () => {
    weather = await startWeatherStandIn();
    ipLocation = await startIpLocationStandIn();
  });
  afterAll(async () => {
    await weather?.close();
    await ipLocation?.close();
  });

  it('locates an IP, then reads the active alerts for its state', async () => {
    const registry = createAgentRegistry({ weatherBaseUrl: weather.url, ipLocationBaseUrl: ipLocation.url });
    const agent = registry.get('weather');
    const model = await startScriptedModel([
      callTools({ name: 'get_ip_location', args: { ip: '8.8.8.8' } }),
      (request) => {
        const output = (request.body.contents as Content[]).at(-1)!.parts[0]!.functionResponse!.response.output as { region: string };
        return callTools({ name: 'get_weather_alerts', args: { state: output.region === 'California' ? 'CA' : 'NY' } });
      },
      answer('There is a Red Flag Warning for the Bay Area.'),
    ]);
    try {
      const taskQueue = temporal.taskQueue();
      await temporal.startWorker({ taskQueue, tools: registry.tools, modelUrl: model.url });
      const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
        taskQueue,
        workflowId: `test-${crypto.randomUUID()}`,
        args: [{ spec: compileAgent(agent), prompt: 'Any weather alerts where 8.8.8.8 is?' }],
      });
      const result = (await handle.result()) as AgentRunResult;
      expect(result.answer).toContain('Red Flag');
      expect(ipLocation.calls).toEqual(['/json/8.8.8.8']);
      expect(weather.calls).toEqual(['/alerts/active?area=CA']);
      const alerts = (model.requests[2]!.body.contents as Content[]).at(-1)!.parts[0]!.functionResponse!.response.output as {
        count: number;
      };
      expect(alerts.count).toBe(1);
      // Both tools are read-only: each ran inside the model call that asked for it.
      expect((await summariseHistory(handle)).scheduled).toEqual(['appendToTranscript', 'callModel', 'callModel', 'callModel']);
    } finally {
      await model.close();
    }
  });
});
