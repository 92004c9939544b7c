import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadStackSettings } from '../../config/local-settings.ts';
import { loadWorkerSettings } from '../../config/worker-settings.ts';
import { startStack, type Stack } from '../../local/start-stack.ts';
import { ownImportGraph } from '../../testkit/import-graph.ts';
import { TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';
import { REPLY_ANSWER_ACTIVITY } from '../../core/contracts/replies.ts';
import { isComposedWorker } from '../../worker/compose.ts';
import { startContainerWorker, type ContainerWorker } from '../../worker/container.ts';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

/** Files of the deployable and local programs' folders, by path from the repository. */
function sourceFiles(folders: string[]): string[] {
  return folders.flatMap((folder) =>
    readdirSync(join(REPOSITORY, folder), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => join(folder, file)),
  );
}

describe('the worker is composed once', () => {
  it('no file of worker/, local/ or cli/ but worker/compose.ts builds a worker (createAgentWorker, Worker.create)', () => {
    const builders = sourceFiles(['worker', 'local', 'cli']).filter((file) =>
      /\bcreateAgentWorker\(|\bWorker\.create\(/.test(readFileSync(join(REPOSITORY, file), 'utf8')),
    );
    // create-worker.ts defines createAgentWorker (the two Temporal workers); compose.ts is its one caller here.
    expect(builders.map((file) => relative('.', file)).sort()).toEqual(['worker/compose.ts', 'worker/create-worker.ts']);
  });

  it("the container's entry, npm start and the terminal programs all reach worker/compose.ts", async () => {
    for (const entry of ['worker/main.ts', 'local/stack.ts', 'cli/ask.ts', 'cli/chat.ts']) {
      const { files } = await ownImportGraph(entry);
      expect(files, entry).toContain('worker/compose.ts');
    }
  });
});

describe.skipIf(noTemporal)("the container's entry and npm start", () => {
  // Runtime installed (quiet) before anything connects, as worker/main.ts and local/stack.ts do.
  useTemporal();
  const scratch = mkdtempSync(join(tmpdir(), 'composition-'));
  const taskQueue = `composition-${crypto.randomUUID()}`;
  let container: ContainerWorker | undefined;
  let containerRunning: Promise<void> | undefined;
  let stack: Stack | undefined;
  afterAll(async () => {
    container?.worker.shutdown();
    await containerRunning;
    await container?.close();
    await stack?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('run workers of the one composition: the same activities and interceptors', async () => {
    // What worker/main.ts runs, given the image's bundle as the container is.
    const bundlePath = join(scratch, 'workflow-bundle.js');
    writeFileSync(bundlePath, inject('workflowBundleCode'));
    const common = {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      SCHEDULES_SYNC_AT_START: 'false',
      WORKER_MAX_CACHED_WORKFLOWS: '24',
    };
    const containerEnv = {
      ...common,
      GOOGLE_API_KEY: 'not-called',
      PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON,
      TRANSCRIPT_DIR: join(scratch, 'container-transcripts'),
      WORKFLOW_BUNDLE_PATH: bundlePath,
    };
    const lines: string[] = [];
    container = await startContainerWorker(loadWorkerSettings(containerEnv), {
      env: containerEnv,
      telemetry: {},
      workflowBundle: { codePath: bundlePath },
      log: (line) => lines.push(line),
    });
    expect(lines.join('\n')).toMatch(/Worker polling task queue "composition-/);
    containerRunning = container.run();

    // What npm start runs, on the same server and task queue.
    const stackEnv = { ...common, DATA_DIR: join(scratch, 'stack'), CONSOLE_PORT: '0', PATH: process.env.PATH };
    stack = await startStack(loadStackSettings(stackEnv), { env: stackEnv, status: () => undefined });

    expect(isComposedWorker(container.worker)).toBe(true);
    expect(isComposedWorker(stack.worker)).toBe(true);
    const containerWorkers = container.worker.describe();
    const stackWorkers = stack.worker.describe();
    expect(stackWorkers).toEqual(containerWorkers);
    // The main worker and the model worker, with every contract's activities and the agents' tools.
    expect(containerWorkers.map((worker) => worker.taskQueue)).toEqual([taskQueue, `${taskQueue}-model`]);
    const [main, model] = containerWorkers;
    expect(main!.activities).toEqual(expect.arrayContaining(['callModel', 'tool:get_current_time', REPLY_ANSWER_ACTIVITY]));
    expect(model!.activities).toEqual(['callModel']);
    for (const worker of containerWorkers) expect(worker.activityInterceptors).toContain('agentMetricsInterceptor');
    expect(main!.workflowInterceptorModules.map((path) => relative(REPOSITORY, path))).toEqual(['workflows/interceptors.ts']);
    // The sticky cache is bounded as the setting says, and the workflow task slots stay within it.
    expect(main).toMatchObject({ maxCachedWorkflows: 24, workflowTaskSlots: 24 });
    // What differs is a parameter: the local stack also replies in terminal chats and to its stand-ins.
    expect(container.worker.replyChannels).toEqual(['none']);
    expect(stack.worker.replyChannels).toEqual(['none', 'terminal', 'slack', 'email']);
  });
});
