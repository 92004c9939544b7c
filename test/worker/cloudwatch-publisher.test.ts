import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import { TASK_QUEUE_DIMENSION, WORKER_METRIC_NAMES, WORKER_METRICS_NAMESPACE } from '../../telemetry/metric-names.ts';
import { createWorkerCounts } from '../../telemetry/cloudwatch-metrics.ts';
import { createOperationsPublisher } from '../../telemetry/operations-publisher.ts';
import { telemetrySettingsSchema } from '../../config/worker-settings.ts';
import { runtimeOptions } from '../../telemetry/runtime-telemetry.ts';
import { answer, failWith, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

/** An EMF line as CloudWatch reads it. */
interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

const counts = createWorkerCounts();
// The Runtime as worker/main.ts installs it with CLOUDWATCH_METRICS=true, printing errors only.
const runtime = runtimeOptions(telemetrySettingsSchema.parse({ CLOUDWATCH_METRICS: 'true' }), counts, new DefaultLogger('ERROR'))!;
const steady = defineAgent({ name: 'steady', model: 'gemini-cloudwatch-test', instructions: 'Answer.', tools: [] });

/** Publishes once and returns the lines it wrote, parsed. */
async function publishOnce(options: Parameters<typeof createOperationsPublisher>[0]): Promise<EmfLine[]> {
  const written: string[] = [];
  await createOperationsPublisher({ ...options, cloudWatch: { counts, write: (line) => written.push(line) } }).publishOnce();
  return written.map((line) => JSON.parse(line) as EmfLine);
}

/**
 * The worker's CloudWatch publisher against the dev server: the backlog of a queue nobody
 * polls, and the counts of model calls, their errors and workflow task failures, as EMF lines
 * with the names, namespace and dimension the CDK app reads (telemetry/metric-names.ts).
 */
describe.skipIf(noTemporal)('CloudWatch EMF publisher', () => {
  const temporal = useTemporal({ runtime });

  it('publishes the approximate backlog of a task queue no worker polls', async () => {
    const idle = temporal.taskQueue('backlog');
    for (let index = 0; index < 3; index += 1) {
      await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
        taskQueue: idle,
        workflowId: `backlog:${crypto.randomUUID()}`,
        args: [{ spec: compileAgent(steady), prompt: 'wait' }],
      });
    }
    let lines: EmfLine[] = [];
    const backlogOf = (taskQueue: string) =>
      lines.find((line) => line[TASK_QUEUE_DIMENSION] === taskQueue)?.[WORKER_METRIC_NAMES.taskQueueBacklog];
    await expect
      .poll(
        async () => {
          lines = await publishOnce({ client: temporal.client, namespace: 'default', taskQueue: idle });
          return backlogOf(idle);
        },
        { timeout: 15_000, interval: 500 },
      )
      .toBe(3);
    // The model queue is published too, 0 included: a missing queue would leave the scaling sum without a value.
    expect(backlogOf(`${idle}-model`)).toBe(0);
    for (const line of lines) {
      expect(line._aws.CloudWatchMetrics).toEqual([
        {
          Namespace: WORKER_METRICS_NAMESPACE,
          Dimensions: [[TASK_QUEUE_DIMENSION]],
          Metrics: expect.arrayContaining([{ Name: WORKER_METRIC_NAMES.taskQueueBacklog, Unit: 'Count' }]),
        },
      ]);
      expect(Math.abs(line._aws.Timestamp - Date.now())).toBeLessThan(60_000);
    }
    // The counts ride on the main queue's line only.
    const main = lines.find((line) => line[TASK_QUEUE_DIMENSION] === idle)!;
    expect(main._aws.CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name).sort()).toEqual(Object.values(WORKER_METRIC_NAMES).sort());
    const model = lines.find((line) => line[TASK_QUEUE_DIMENSION] === `${idle}-model`)!;
    expect(model._aws.CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name)).toEqual([WORKER_METRIC_NAMES.taskQueueBacklog]);
  });

  it("counts model call attempts, failed attempts and Core's workflow task failures", async () => {
    const model = await startScriptedModel([failWith(503, 'busy'), answer('Fine.')]);
    try {
      const taskQueue = temporal.taskQueue('counts');
      await temporal.startWorker({ taskQueue, tools: [], agents: [steady], modelUrl: model.url, counts });
      await temporal.client.workflow.execute(AGENT_RUN_WORKFLOW, {
        taskQueue,
        workflowId: `counts:${crypto.randomUUID()}`,
        args: [{ spec: compileAgent(steady), prompt: 'how are you?' }],
      });
      // No spec: the workflow code throws a TypeError, which fails its workflow task (not the workflow).
      const broken = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
        taskQueue,
        workflowId: `broken:${crypto.randomUUID()}`,
        args: [{}],
      });
      try {
        const total = { modelCalls: 0, modelCallErrors: 0, workflowTaskFailures: 0 };
        await expect
          .poll(
            async () => {
              const main = (await publishOnce({ client: temporal.client, namespace: 'default', taskQueue })).find(
                (line) => line[TASK_QUEUE_DIMENSION] === taskQueue,
              )!;
              total.modelCalls += main[WORKER_METRIC_NAMES.modelCalls] as number;
              total.modelCallErrors += main[WORKER_METRIC_NAMES.modelCallErrors] as number;
              total.workflowTaskFailures += main[WORKER_METRIC_NAMES.workflowTaskFailures] as number;
              return total.workflowTaskFailures;
            },
            { timeout: 15_000, interval: 500 },
          )
          .toBeGreaterThanOrEqual(1);
        expect(total).toMatchObject({ modelCalls: 2, modelCallErrors: 1 });
      } finally {
        await broken.terminate('test over');
      }
    } finally {
      await model.close();
    }
  });
});
