import { workflowInfo } from '@temporalio/workflow';

/** When a long-lived workflow starts afresh, carrying its state: history stays small and fast to replay. */
export interface ContinueAsNewPolicy {
  /** Continue as new once history has this many events (or Temporal suggests it). @default 10_000 */
  maxHistoryEvents?: number;
  /** …or this many bytes. @default 20 MiB */
  maxHistoryBytes?: number;
}

const DEFAULT_MAX_HISTORY_EVENTS = 10_000;
const DEFAULT_MAX_HISTORY_BYTES = 20 * 1024 * 1024;

/**
 * Whether Temporal suggests continuing as new, or history has reached either limit.
 * `unrecorded`: events the workflow has made that `historyLength` does not count yet (markers
 * of local activities run inside the current workflow task). @default 0
 */
export function shouldContinueAsNew(policy: ContinueAsNewPolicy = {}, unrecorded = 0): boolean {
  const info = workflowInfo();
  return (
    info.continueAsNewSuggested ||
    info.historyLength + unrecorded >= (policy.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS) ||
    info.historySize >= (policy.maxHistoryBytes ?? DEFAULT_MAX_HISTORY_BYTES)
  );
}

/**
 * Whether a deploy has made another Worker Deployment Version this pinned run's target (its
 * deployment's current version, or the ramping one for its share): the server says so on each
 * workflow task. Always false for an unversioned worker, and in histories recorded before
 * versioning, so those replay along the same path.
 */
export function targetVersionChanged(): boolean {
  return workflowInfo().targetWorkerDeploymentVersionChanged === true;
}
