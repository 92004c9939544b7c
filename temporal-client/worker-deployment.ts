import type { Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import proto from '@temporalio/proto';

// A Worker Deployment's routing through the client's workflow service: which version takes new
// runs (current), which takes a share of them (ramping), and what the server knows of each.
// The same calls as `temporal worker deployment set-current-version | set-ramping-version | describe`.

// The package is CommonJS: Node's ESM loader sees its default export only.
const { WorkerDeploymentVersionStatus, VersionDrainageStatus } = proto.temporal.api.enums.v1;

export interface DeploymentVersionSummary {
  buildId: string;
  /** `current`, `ramping`, `draining`, `drained`, `inactive`, …: the server's status, lower-cased. */
  status: string;
  /** Whether pinned runs still run on it (`draining`) or none do (`drained`); set once the version stops taking new runs. */
  drainage?: string;
}

export interface DeploymentSummary {
  name: string;
  /** Build id of the current version; undefined: unversioned workers take new runs. */
  current?: string;
  ramping?: { buildId: string; percentage: number };
  versions: DeploymentVersionSummary[];
}

/** Makes a version current: every new run starts on it; pinned runs stay where they started. */
export async function setCurrentVersion(
  client: Client,
  version: WorkerDeploymentVersion,
  identity = 'durable-agents deploy',
): Promise<void> {
  await client.workflowService.setWorkerDeploymentCurrentVersion({
    namespace: client.options.namespace,
    deploymentName: version.deploymentName,
    buildId: version.buildId,
    identity,
  });
}

/** Sends `percentage` % of new runs to a version (the rest go to the current one); 0 keeps it ramping with no share. */
export async function setRampingVersion(
  client: Client,
  version: WorkerDeploymentVersion,
  percentage: number,
  identity = 'durable-agents deploy',
): Promise<void> {
  if (!(percentage >= 0 && percentage <= 100)) throw new RangeError(`A ramp is a percentage from 0 to 100, not ${percentage}.`);
  await client.workflowService.setWorkerDeploymentRampingVersion({
    namespace: client.options.namespace,
    deploymentName: version.deploymentName,
    buildId: version.buildId,
    percentage,
    identity,
  });
}

/** Ends a ramp: only the current version takes new runs. */
export async function clearRampingVersion(client: Client, deploymentName: string, identity = 'durable-agents deploy'): Promise<void> {
  await client.workflowService.setWorkerDeploymentRampingVersion({
    namespace: client.options.namespace,
    deploymentName,
    buildId: '',
    percentage: 0,
    identity,
  });
}

/** What the server knows of a deployment: its routing and its versions, newest first. */
export async function describeDeployment(client: Client, deploymentName: string): Promise<DeploymentSummary> {
  const { workerDeploymentInfo: info } = await client.workflowService.describeWorkerDeployment({
    namespace: client.options.namespace,
    deploymentName,
  });
  const routing = info?.routingConfig;
  const ramping = routing?.rampingDeploymentVersion?.buildId;
  const versions = [...(info?.versionSummaries ?? [])]
    .sort((a, b) => Number(b.createTime?.seconds ?? 0) - Number(a.createTime?.seconds ?? 0))
    .map((summary): DeploymentVersionSummary => {
      const drainage = summary.drainageInfo?.status ?? summary.drainageStatus;
      return {
        buildId: summary.deploymentVersion?.buildId ?? '',
        status: enumName(WorkerDeploymentVersionStatus, summary.status, 'WORKER_DEPLOYMENT_VERSION_STATUS_'),
        ...(drainage ? { drainage: enumName(VersionDrainageStatus, drainage, 'VERSION_DRAINAGE_STATUS_') } : {}),
      };
    });
  return {
    name: info?.name ?? deploymentName,
    ...(routing?.currentDeploymentVersion?.buildId ? { current: routing.currentDeploymentVersion.buildId } : {}),
    ...(ramping ? { ramping: { buildId: ramping, percentage: routing?.rampingVersionPercentage ?? 0 } } : {}),
    versions,
  };
}

/**
 * Retries `change` (setting a version current or ramping) until the server accepts it: a
 * version exists only once its workers have polled, and the server refuses to route to a
 * version missing pollers on a task queue the current version serves. A new task's rollout
 * takes seconds to reach that state. @default timeoutMs 5 minutes
 */
export async function whenVersionReady<T>(
  change: () => Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; onWait?: (reason: string) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 5 * 60_000);
  for (;;) {
    try {
      return await change();
    } catch (error) {
      if (!isNotReady(error) || Date.now() >= deadline) throw error;
      options.onWait?.((error as Error).message);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1_000));
    }
  }
}

// gRPC NOT_FOUND (5) and FAILED_PRECONDITION (9): no such version yet, or not every task queue polled.
function isNotReady(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 5 || code === 9;
}

function enumName(values: Record<string, unknown>, value: unknown, prefix: string): string {
  const name = Object.keys(values).find((key) => values[key] === value) ?? String(value);
  return name.replace(prefix, '').toLowerCase();
}

/**
 * What a versioned worker does with its own version once it polls: `first` makes it current
 * only when the deployment has none (a first deploy, when otherwise no worker would take new
 * runs until someone ran `npm run deployment -- current`); `always` makes it current (the
 * deploy itself switches new runs over once its tasks are up); `never` leaves routing to the
 * commands (a ramp).
 */
export type VersionPromotion = 'first' | 'always' | 'never';

export type PromotionOutcome = 'made-current' | 'already-current' | 'left-to-the-commands';

/** Applies `promotion` to `version`, waiting (up to `timeoutMs`) until the server knows the version's pollers. */
export async function promoteVersion(
  client: Client,
  version: WorkerDeploymentVersion,
  promotion: VersionPromotion,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<PromotionOutcome> {
  if (promotion === 'never') return 'left-to-the-commands';
  const current = await currentBuildId(client, version.deploymentName);
  if (current === version.buildId) return 'already-current';
  if (promotion === 'first' && current !== undefined) return 'left-to-the-commands';
  await whenVersionReady(() => setCurrentVersion(client, version, `worker ${version.buildId} (promotion: ${promotion})`), options);
  return 'made-current';
}

/** The deployment's current build id; undefined when it has none or does not exist yet (no worker of it has polled). */
async function currentBuildId(client: Client, deploymentName: string): Promise<string | undefined> {
  try {
    return (await describeDeployment(client, deploymentName)).current;
  } catch (error) {
    if ((error as { code?: unknown }).code === 5) return undefined;
    throw error;
  }
}
