import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { encryptedDataConverter, newPayloadKeyJson, parsePayloadKeys } from '../../temporal-client/payload-encryption.ts';
import { tracingWorkerOptions } from '../../telemetry/worker-tracing.ts';

const HISTORIES = fileURLToPath(new URL('./histories/', import.meta.url));
const files = readdirSync(HISTORIES)
  .filter((file) => file.endsWith('.json'))
  .sort();

/** Executions `npm run record-histories` keeps; each is replayed against today's workflow code. */
const EXPECTED = [
  'agent-run-plain',
  'agent-run-parallel-tools',
  'agent-run-sub-agent',
  'agent-run-sub-agent.child',
  'agent-run-mcp',
  'conversation-two-turns',
  'conversation-two-turns.turn-1',
  'conversation-two-turns.turn-2',
  'conversation-continue-as-new.first-run',
  'conversation-continue-as-new.second-run',
  'conversation-continue-as-new',
  'conversation-approval',
  'conversation-approval.turn-1',
  'conversation-stop',
  'conversation-stop.turn-1',
  'conversation-stop.turn-2',
  'ambient-run',
  'ambient-run.run',
  // Kept from before read-only tools ran inside their model call (a local activity of their own
  // then): a run in flight across that change replays, taking the calls back from the marker.
  'agent-run-read-only-tool-as-local-activity',
];

/** The worker decodes through the payload codec; these histories, recorded by a worker without it, pass through it in clear. */
const dataConverter = encryptedDataConverter(parsePayloadKeys(JSON.stringify({ keys: [newPayloadKeyJson('replay')] }), 'replay keys'));

function load(file: string): { workflowId: string; history: temporal.api.history.v1.History } {
  const json = JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as { workflowId: string; history: Record<string, unknown> };
  return { workflowId: json.workflowId, history: temporal.api.history.v1.History.fromObject(json.history) };
}

/**
 * Replays histories recorded from real runs (`npm run record-histories`) with the workflow
 * bundle of this commit: a change that would make a running workflow take a different path
 * on replay (a reordered activity, a new timer) fails here, before it fails in production.
 */
describe('replaying recorded histories', () => {
  beforeAll(() => {
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // Already installed by another file in this process.
    }
  });

  it('keeps a history of every scenario', () => {
    expect(files.map((file) => file.replace(/\.json$/, '')).sort()).toEqual([...EXPECTED].sort());
  });

  it.each(files)('%s replays deterministically', async (file) => {
    const { workflowId, history } = load(file);
    expect(history.events!.length).toBeGreaterThan(5);
    // The worker's sinks as it runs untraced: a bundle's interceptors name the span exporter.
    await Worker.runReplayHistory(
      {
        workflowBundle: { code: inject('workflowBundleCode') },
        sinks: tracingWorkerOptions(undefined).sinks,
        replayName: file,
        dataConverter,
      },
      history,
      workflowId,
    );
  });
});
