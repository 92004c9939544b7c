import type { WorkflowHandle } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { temporal as proto } from '@temporalio/proto';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { describeDeployment, promoteVersion, setCurrentVersion, whenVersionReady } from '../../temporal-client/worker-deployment.ts';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { Content } from '../../core/spec.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { conversationDriver, incoming, lastUserText } from './conversation-helpers.ts';

const EventType = proto.api.enums.v1.EventType;
const VersioningBehavior = proto.api.enums.v1.VersioningBehavior;

/** The same tool on every build; each build's copy names itself, so an answer shows where its tool ran. */
function whichBuildTool(buildId: string) {
  return defineTool({
    name: 'which_build',
    description: 'Names the build of the worker that runs this tool.',
    input: z.object({}),
    handler: async () => ({ buildId }),
  });
}

const agentOn = (buildId: string) =>
  defineAgent({ name: 'versioned', instructions: 'Be brief.', tools: [whichBuildTool(buildId)], limits: { maxSteps: 4 } });

/** Asks for `which_build`, then answers with what it said. Questions containing "hold" wait for `release()` first. */
function scriptedModel() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const respond = async (request: GeminiRequest) => {
    const last = (request.body.contents as Content[]).at(-1)!;
    const output = last.parts.find((part) => part.functionResponse)?.functionResponse?.response.output as { buildId?: string } | undefined;
    if (output) return answer(`ran on ${output.buildId}`);
    if (lastUserText(request).includes('hold')) await released;
    return callTools({ name: 'which_build', args: {} });
  };
  return { respond, release };
}

/** Build id of every workflow task a run completed, in order. */
async function workflowTaskBuilds(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    .map((event) => event.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? 'unversioned');
}

/**
 * A run's workflow tasks split at the versioning override it may have pinned itself with
 * (servers before 1.30): build ids of the tasks completed after it, and what was scheduled
 * before it (nothing, when the old build did nothing of the run).
 */
async function aroundThePin(handle: WorkflowHandle) {
  const events = (await handle.fetchHistory()).events ?? [];
  const pinnedAt = events.findIndex((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED);
  const before = pinnedAt === -1 ? [] : events.slice(0, pinnedAt);
  return {
    buildsAfter: events
      .slice(pinnedAt + 1)
      .filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
      .map((event) => event.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? 'unversioned'),
    scheduledBefore: before
      .filter(
        (event) =>
          event.activityTaskScheduledEventAttributes ||
          event.startChildWorkflowExecutionInitiatedEventAttributes ||
          event.timerStartedEventAttributes,
      )
      .map((event) => EventType[event.eventType!]),
  };
}

async function versioningOf(handle: WorkflowHandle) {
  const described = await handle.describe();
  const info = described.raw.workflowExecutionInfo?.versioningInfo;
  return { behavior: info?.behavior, buildId: info?.deploymentVersion?.buildId };
}

describe.skipIf(noTemporal)('worker versioning on the dev server', () => {
  const temporal = useTemporal();
  let model: GeminiServer | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  /** One deployment, one task queue; `start(buildId)` adds a worker of that build, `makeCurrent` routes new runs to it. */
  async function deployment() {
    const script = scriptedModel();
    model = await startScriptedModel(script.respond);
    const taskQueue = temporal.taskQueue('versioning');
    const deploymentName = `agents-${crypto.randomUUID()}`;
    const version = (buildId: string): WorkerDeploymentVersion => ({ deploymentName, buildId });
    return {
      taskQueue,
      deploymentName,
      release: script.release,
      start: (buildId: string) =>
        temporal.startWorker({ taskQueue, tools: [], agents: [agentOn(buildId)], modelUrl: model!.url, deployment: version(buildId) }),
      makeCurrent: (buildId: string) =>
        whenVersionReady(() => setCurrentVersion(temporal.client, version(buildId)), { timeoutMs: 30_000, intervalMs: 200 }),
    };
  }

  it('finishes a run on the version it started on while the next version takes new runs', async () => {
    const deploy = await deployment();
    await deploy.start('v1');
    await deploy.makeCurrent('v1');

    const start = (prompt: string) =>
      temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
        taskQueue: deploy.taskQueue,
        workflowId: `versioning-${crypto.randomUUID()}`,
        args: [{ spec: compileAgent(agentOn('v1')), prompt }],
      });
    // The first run waits in its first model call, which a v1 worker has taken.
    const first = await start('hold: which build?');
    await expect
      .poll(() => model!.requests.filter((request) => lastUserText(request).startsWith('hold')).length, { timeout: 20_000 })
      .toBe(1);

    await deploy.start('v2');
    await deploy.makeCurrent('v2');
    const second = await start('which build?');
    expect(((await second.result()) as AgentRunResult).answer).toBe('ran on v2');

    deploy.release();
    // Its tool ran on v1 and every workflow task after the switch did too: a PINNED run.
    expect(((await first.result()) as AgentRunResult).answer).toBe('ran on v1');
    expect(new Set(await workflowTaskBuilds(first))).toEqual(new Set(['v1']));
    expect(await versioningOf(first)).toEqual({ behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED, buildId: 'v1' });
    expect(new Set(await workflowTaskBuilds(second))).toEqual(new Set(['v2']));

    const summary = await describeDeployment(temporal.client, deploy.deploymentName);
    expect(summary.current).toBe('v2');
    expect(summary.versions.map((version) => version.buildId).sort()).toEqual(['v1', 'v2']);
  });

  it('makes a first version current by itself, later ones only when told to (TEMPORAL_VERSION_PROMOTION)', async () => {
    const deploy = await deployment();
    const version = (buildId: string) => ({ deploymentName: deploy.deploymentName, buildId });
    const promote = (buildId: string, promotion: 'first' | 'always' | 'never') =>
      promoteVersion(temporal.client, version(buildId), promotion, { timeoutMs: 30_000, intervalMs: 200 });
    await deploy.start('v1');
    // A first deploy: nothing is current, so without this no worker would take new runs.
    expect(await promote('v1', 'never')).toBe('left-to-the-commands');
    expect(await promote('v1', 'first')).toBe('made-current');
    expect((await describeDeployment(temporal.client, deploy.deploymentName)).current).toBe('v1');
    expect(await promote('v1', 'first')).toBe('already-current');

    await deploy.start('v2');
    // A later deploy with the default leaves routing to the commands (a ramp, or current).
    expect(await promote('v2', 'first')).toBe('left-to-the-commands');
    expect((await describeDeployment(temporal.client, deploy.deploymentName)).current).toBe('v1');
    expect(await promote('v2', 'always')).toBe('made-current');
    expect((await describeDeployment(temporal.client, deploy.deploymentName)).current).toBe('v2');
  });

  it('leaves an unversioned conversation as it was: no version check', async () => {
    const script = scriptedModel();
    model = await startScriptedModel(script.respond);
    const taskQueue = temporal.taskQueue('unversioned');
    await temporal.startWorker({ taskQueue, tools: [], agents: [agentOn('none')], modelUrl: model.url });
    const chat = conversationDriver(temporal.client, taskQueue, 'versioned');
    await chat.send(incoming('which build?'));
    expect((await chat.waitForTurn(1)).answerExcerpt).toBe('ran on none');
    const markers = ((await chat.handle.fetchHistory()).events ?? [])
      .filter((event) => event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED)
      .flatMap((event) =>
        Object.values(event.markerRecordedEventAttributes?.details ?? {}).flatMap((payloads) =>
          (payloads.payloads ?? []).map((payload) => new TextDecoder().decode(payload.data ?? new Uint8Array())),
        ),
      );
    expect(markers.join('\n')).not.toMatch(/version:follow/);
  });

  /** A conversation on v1, one turn held until v2 is current; it continues as new after every turn. */
  async function conversationAcrossADeploy() {
    const deploy = await deployment();
    await deploy.start('v1');
    await deploy.makeCurrent('v1');
    // One event of history is enough to continue as new after every turn.
    const chat = conversationDriver(temporal.client, deploy.taskQueue, 'versioned', { options: { maxHistoryEvents: 1 } });
    await chat.send(incoming('hold: which build?'));
    await expect
      .poll(() => model!.requests.filter((request) => lastUserText(request).startsWith('hold')).length, { timeout: 20_000 })
      .toBe(1);
    const { runId: firstRunId } = await chat.handle.describe();
    const runOf = (runId: string) => temporal.client.workflow.getHandle(chat.conversationId, runId);

    // v2 becomes current while turn 1 runs on v1: the turn, and its conversation's run, end there.
    await deploy.start('v2');
    await deploy.makeCurrent('v2');
    deploy.release();
    expect((await chat.waitForTurn(1)).answerExcerpt).toBe('ran on v1');
    let nextRunId = firstRunId;
    await expect.poll(async () => (nextRunId = (await chat.handle.describe()).runId) !== firstRunId, { timeout: 20_000 }).toBe(true);
    expect(new Set(await workflowTaskBuilds(runOf(firstRunId)))).toEqual(new Set(['v1']));
    expect(await versioningOf(runOf(firstRunId))).toEqual({ behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED, buildId: 'v1' });
    return { chat, nextRun: runOf(nextRunId), deploy };
  }

  it("keeps a conversation's run on the version it started on, through a deploy", async () => {
    await conversationAcrossADeploy();
  });

  // Upgrade on continue-as-new (`initialVersioningBehavior`) is a server feature of Temporal
  // 1.30 and later (and Temporal Cloud). The CLI 1.5.1 dev server (1.29.1) ignores it and starts
  // the next run on the old version; the run's first step pins it to the current one
  // (`version:follow`), the old build fails its task on purpose, and the new one takes the run.
  it('moves a conversation to the new version at continue-as-new, and again at the next deploy', async () => {
    const { chat, nextRun, deploy } = await conversationAcrossADeploy();
    await chat.send(incoming('which build now?'));
    expect((await chat.waitForTurn(2)).answerExcerpt).toBe('ran on v2');
    // Every task after the pin ran on v2; before it (if v1 completed a task while the pin was
    // being set, under load) v1 scheduled nothing of the run.
    const { buildsAfter, scheduledBefore } = await aroundThePin(nextRun);
    expect(new Set(buildsAfter)).toEqual(new Set(['v2']));
    expect(scheduledBefore).toEqual([]);
    expect(await versioningOf(nextRun)).toEqual({ behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED, buildId: 'v2' });

    // The next deploy: the run (pinned to v2, by the server or by an override it inherits) moves on to v3.
    await deploy.start('v3');
    await deploy.makeCurrent('v3');
    await chat.send(incoming('and after v3?'));
    expect((await chat.waitForTurn(3)).answerExcerpt).toBe('ran on v3');
  });
  it('continues a conversation as new at the first turn boundary after a deploy, far below its history limit', async () => {
    const deploy = await deployment();
    await deploy.start('v1');
    await deploy.makeCurrent('v1');
    // History stays far below the limit: only the deploy makes this conversation continue as new.
    const chat = conversationDriver(temporal.client, deploy.taskQueue, 'versioned');
    await chat.send(incoming('which build?'));
    expect((await chat.waitForTurn(1)).answerExcerpt).toBe('ran on v1');
    const { runId: firstRunId } = await chat.handle.describe();

    await deploy.start('v2');
    await deploy.makeCurrent('v2');
    // Before the turn that message starts the run asks the deployment (`version:follow`) and
    // continues as new; the server's flag (1.30+, lazily, not on a sticky task) may come first.
    await chat.send(incoming('and now?'));
    await chat.waitForTurn(2);
    await expect.poll(async () => (await chat.handle.describe()).runId !== firstRunId, { timeout: 20_000 }).toBe(true);
    const first = temporal.client.workflow.getHandle(chat.conversationId, firstRunId);
    expect((await first.describe()).status.name).toBe('CONTINUED_AS_NEW');
    expect(new Set(await workflowTaskBuilds(first))).toEqual(new Set(['v1']));
    expect(((await first.fetchHistory()).events ?? []).length).toBeLessThan(1_000);

    await chat.send(incoming('and after that?'));
    expect((await chat.waitForTurn(3)).answerExcerpt).toBe('ran on v2');
  });
});
