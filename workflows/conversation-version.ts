import { proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import {
  FOLLOW_VERSION_ACTIVITY,
  VERSION_MOVE_MARK,
  type FollowVersionResult,
  type VersionActivities,
} from '../core/contracts/versions.ts';

// Local: a check costs a marker, not three events and a round trip through the task queue.
// A failed check is not worth failing a conversation over: a couple of attempts, then stay put.
const { [FOLLOW_VERSION_ACTIVITY]: followVersionActivity } = proxyLocalActivities<VersionActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 2 },
});

export interface VersionFollower {
  /**
   * First thing in a run continued as new: where the server started it on the old version
   * (Temporal before 1.30 ignores `initialVersioningBehavior`), pins it to the current one.
   * This task, on the old build, then fails on purpose: the server would otherwise hand the
   * run's next tasks to the old worker's sticky queue. Nothing of it is recorded; the new build
   * replays the run's first events, checks again and finds the run on target.
   */
  settle(): Promise<void>;
  /** Before a turn: whether another version is now current, so the run should continue as new first. */
  behind(): Promise<boolean>;
}

/**
 * Keeps a versioned conversation on its deployment's current version without moving a run
 * mid-flight: before a turn, a run behind the current version continues as new (as it does
 * when the server flags a new target); its next run, if the server left it on the old
 * version, is pinned to the current one before it does anything else. Only versioned runs
 * schedule anything: on unversioned workers neither step records an event.
 */
export function followVersion(continued: boolean): VersionFollower {
  // A run that could not check or move stays where it is: continuing as new again could loop.
  let following = true;
  const check = async (move: boolean): Promise<FollowVersionResult | undefined> => {
    const info = workflowInfo();
    const version = info.currentDeploymentVersion;
    // Unversioned workers report a version with an empty name and build id: nothing to follow.
    if (!following || !version?.deploymentName || !version.buildId) return undefined;
    try {
      return await followVersionActivity({
        workflowId: info.workflowId,
        runId: info.runId,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        move,
      });
    } catch {
      following = false;
      return undefined;
    }
  };
  return {
    async settle() {
      if (!continued) return;
      const result = await check(true);
      const info = workflowInfo();
      // Never while replaying: a failed task records nothing, so only a live one gets here.
      if (result?.outcome === 'moved' && !info.unsafe.isReplaying && info.currentDeploymentVersion?.buildId !== result.current) {
        throw new Error(
          `${VERSION_MOVE_MARK}: conversation moved to build ${result.current}; its old build lets the new one take this workflow task.`,
        );
      }
      // Recorded only where the server kept the task (the run was on target, or a server that
      // lets it complete): then the next task runs on the pinned version, and a pin that did
      // not take must not make every turn continue as new.
      if (result?.outcome === 'moved') following = false;
    },
    async behind() {
      return (await check(false))?.outcome === 'behind';
    },
  };
}
