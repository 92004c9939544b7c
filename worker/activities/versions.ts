import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { FOLLOW_VERSION_ACTIVITY, type VersionActivities } from '../../core/contracts/versions.ts';

// The package is CommonJS: Node's ESM loader sees its default export only.
const { VersioningBehavior } = proto.temporal.api.enums.v1;
const { PinnedOverrideBehavior } = proto.temporal.api.workflow.v1.VersioningOverride;

/**
 * `version:follow`, with the worker's own Temporal client (`Context.current().client`) unless
 * one is given. Moving a run is a versioning override pinned to the current version
 * (`UpdateWorkflowExecutionOptions`): servers before Temporal 1.30 ignore continue-as-new's
 * `initialVersioningBehavior` and start the next run on the old version, and this is how the
 * conversation's fresh run gets to the new one there. The override is inherited by the next
 * run and its children; the next deploy replaces it the same way.
 */
export function createVersionActivities(clientOf: () => Client = () => Context.current().client): VersionActivities {
  return {
    async [FOLLOW_VERSION_ACTIVITY]({ workflowId, runId, deploymentName, buildId, move }) {
      const client = clientOf();
      const namespace = client.options.namespace;
      const { workerDeploymentInfo } = await client.workflowService.describeWorkerDeployment({ namespace, deploymentName });
      const routing = workerDeploymentInfo?.routingConfig;
      const current = routing?.currentDeploymentVersion?.buildId || undefined;
      const ramping = routing?.rampingDeploymentVersion?.buildId || undefined;
      const found = current ? { current } : {};
      // Nothing current (unversioned workers take new runs), or already where new runs go.
      if (!current || current === buildId || ramping === buildId) return { outcome: 'on-target', ...found };
      if (!move) return { outcome: 'behind', current };
      await client.workflowService.updateWorkflowExecutionOptions({
        namespace,
        workflowExecution: { workflowId, runId },
        workflowExecutionOptions: {
          versioningOverride: {
            pinned: { behavior: PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED, version: { deploymentName, buildId: current } },
            // The deprecated fields too: servers before 1.29's `pinned` read only these.
            behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
            pinnedVersion: `${deploymentName}.${current}`,
          },
        },
        updateMask: { paths: ['versioning_override'] },
      });
      return { outcome: 'moved', current };
    },
  };
}
