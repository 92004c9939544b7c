/**
 * Where a versioned conversation's run stands against its Worker Deployment, as one activity:
 * `version:follow` compares the run's version with the deployment's current (or ramping) one
 * and, when asked and behind, pins the run to the current version. Wire contract: never
 * renamed in place.
 */

export const FOLLOW_VERSION_ACTIVITY = 'version:follow';

/**
 * In the message of the workflow task a moved conversation fails on purpose on its old build
 * (servers before 1.30): the worker leaves such failures out of `WorkflowTaskFailures`, so a
 * deploy that moves many conversations does not sound the alarm.
 */
export const VERSION_MOVE_MARK = 'conversation-moved-to-current-version';

export interface FollowVersionInput {
  workflowId: string;
  runId: string;
  /** The deployment and build the run is on (`workflowInfo().currentDeploymentVersion`). */
  deploymentName: string;
  buildId: string;
  /**
   * Pin the run to the current version when it is behind. Only for a run that has just
   * started (after continue-as-new): its few events replay on the new build in an instant.
   */
  move: boolean;
}

export interface FollowVersionResult {
  /**
   * `on-target`: the run is on the current or the ramping version, or nothing is current;
   * `behind`: another version is current (and `move` was false); `moved`: the run is now
   * pinned to the current version, and its next workflow task runs there.
   */
  outcome: 'on-target' | 'behind' | 'moved';
  /** Build id of the deployment's current version, when there is one. */
  current?: string;
}

export interface VersionActivities {
  [FOLLOW_VERSION_ACTIVITY]: (input: FollowVersionInput) => Promise<FollowVersionResult>;
}
