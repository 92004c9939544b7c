import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from './create-worker.ts';
import { tracingWorkerOptions, WORKFLOW_INTERCEPTORS_PATH } from '../telemetry/worker-tracing.ts';

/**
 * The workflow bundle, built once (at image build) instead of at every worker start: webpack
 * over `workflows/` takes seconds of CPU, which a Fargate task's half vCPU pays on every start.
 * The bundle holds the workflow interceptors too, so it is the same bundle traced or not.
 */

/** Where the image builds it (`npm run build:workflows`); the image's WORKFLOW_BUNDLE_PATH names it. */
export const DEFAULT_WORKFLOW_BUNDLE_PATH = fileURLToPath(new URL('../dist/workflow-bundle.js', import.meta.url));

/** The recorded histories the replay gate runs (`npm run record-histories` keeps them). */
export const REPLAY_HISTORIES_DIR = fileURLToPath(new URL('../test/replay/histories/', import.meta.url));

/** Bundles `workflows/` with the workflow interceptors, as the worker would at start. */
export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH],
    logger: quietLogger,
  });
  return code;
}

/** A recorded history file: `{ workflowId, history }` as `npm run record-histories` writes it. */
export function loadRecordedHistory(path: string): { workflowId: string; history: temporal.api.history.v1.History } {
  const json = JSON.parse(readFileSync(path, 'utf8')) as { workflowId: string; history: Record<string, unknown> };
  return { workflowId: json.workflowId, history: proto.temporal.api.history.v1.History.fromObject(json.history) };
}

/**
 * Replays every recorded history in `directory` with this bundle: a bundle whose workflows
 * would take another path on replay than the recorded runs took throws, naming the history.
 * Needs the Temporal Runtime (installed by the caller, or the SDK's default).
 */
export async function replayRecordedHistories(code: string, directory: string): Promise<string[]> {
  const files = readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .sort();
  for (const file of files) {
    const { workflowId, history } = loadRecordedHistory(join(directory, file));
    // The worker's sinks as it runs untraced: the bundle's interceptors name the span exporter.
    await Worker.runReplayHistory(
      { workflowBundle: { code }, sinks: tracingWorkerOptions(undefined).sinks, replayName: file },
      history,
      workflowId,
    );
  }
  return files;
}

/** The bundler's log: warnings and errors only (webpack's progress is noise at every start). */
export const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
