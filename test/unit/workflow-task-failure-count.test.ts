import { describe, expect, it } from 'vitest';
import { VERSION_MOVE_MARK } from '../../core/contracts/versions.ts';
import { countingWorkflowTaskFailures, createWorkerCounts, WORKFLOW_TASK_FAILED_MESSAGE } from '../../telemetry/cloudwatch-metrics.ts';

// Core's forwarded line carries the failure as text (its shape, seen on the dev server).
const coreFailure = (message: string) => ({
  sdkComponent: 'core',
  target: 'temporalio_sdk_core::worker::workflow',
  failure: `Failure { failure: Some(Failure { message: "${message}", source: "TypeScriptSDK" }), force_cause: Unspecified }`,
  runId: 'run-1',
});

describe('the WorkflowTaskFailures count', () => {
  it('counts workflow task failures but not the task a moved conversation fails on purpose on its old build', () => {
    const counts = createWorkerCounts();
    const forwarded: string[] = [];
    const logger = countingWorkflowTaskFailures(
      { log: (_level, message) => forwarded.push(message), trace() {}, debug() {}, info() {}, warn() {}, error() {} },
      counts,
    );

    logger.warn(WORKFLOW_TASK_FAILED_MESSAGE, coreFailure("Cannot read properties of undefined (reading 'mcpServers')"));
    logger.warn(
      WORKFLOW_TASK_FAILED_MESSAGE,
      coreFailure(`${VERSION_MOVE_MARK}: conversation moved to build v2; its old build lets the new one take this workflow task.`),
    );
    logger.warn(WORKFLOW_TASK_FAILED_MESSAGE, { runId: 'run-2' });
    logger.info('Worker state changed');

    expect(counts.take().workflowTaskFailures).toBe(2);
    // Every line still reaches the logger behind it.
    expect(forwarded).toHaveLength(4);
  });
});
