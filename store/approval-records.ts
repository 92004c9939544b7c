import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { APPROVAL_VERDICT_UPDATE } from '../core/conversation.ts';
import { DELIVER_APPROVAL_ACTIVITY, RECORD_APPROVAL_ACTIVITY, type ApprovalGrant, type ApprovalRecordActivities, type RecordApprovalInput } from '../core/contracts/tools.ts';
import type { PlannedCall } from '../core/spec.ts';
import { canonicalJson } from './canonical-json.ts';
import type { TranscriptStoreSettings } from './create-store.ts';
import { createLocalRecordFiles, createMemoryRecordFiles, recordFilesFor, type RecordFiles } from './record-files.ts';

/** One granted approval, as the worker keeps it: which call, of which run, and who used it first. */
interface ApprovalRecord {
  conversationId: string;
  requestId: string;
  runWorkflowId: string;
  target: string;
  /** SHA-256 of the canonical JSON of the arguments the person saw. */
  argsHash: string;
  approver: string;
  decidedAt: string;
  /** The first activity that ran under this approval; its retries may run again, nothing else may. */
  usedBy?: { runId: string; activityId: string };
}

/**
 * Granted approvals, worker side, next to the transcript store (`approvals/ab/cdef….json`, the
 * SHA-256 of conversation and request id). The conversation records one (through an activity)
 * when a person's approval has passed its validator, before the waiting run hears of it; a
 * tool that needs approval by the worker's own definition runs only when the record names
 * that very call. Workflow input alone (a spec that says `approval: 'never'`) cannot skip it.
 */
export interface ApprovalRecords {
  record(input: RecordApprovalInput): Promise<void>;
  /** Throws the non-retryable `ApprovalMissing` unless `grant` names an approval of this call, by this run. */
  check(grant: ApprovalGrant | undefined, call: { target: string; args: Record<string, unknown> }): Promise<void>;
}

export function createApprovalRecords(files: RecordFiles): ApprovalRecords {
  const keyOf = ({ conversationId, requestId }: ApprovalGrant) => {
    const digest = createHash('sha256').update(`${conversationId}\u0000${requestId}`).digest('hex');
    return `approvals/${digest.slice(0, 2)}/${digest.slice(2)}.json`;
  };
  const missing = (target: string, why: string) =>
    ApplicationFailure.nonRetryable(`${target} needs a person's approval and ${why}; it did not run.`, 'ApprovalMissing');
  return {
    async record(input) {
      const { args, ...rest } = input;
      // A retried record (or a late second one) never replaces the first: it may have been used.
      const record: ApprovalRecord = { ...rest, argsHash: hashArgs(args) };
      await files.create(keyOf(input), JSON.stringify(record));
    },
    async check(grant, { target, args }) {
      if (!grant) throw missing(target, 'none was recorded for this call');
      const text = await files.read(keyOf(grant));
      if (text === undefined) throw missing(target, `approval request ${grant.requestId} was never granted`);
      const record = JSON.parse(text) as ApprovalRecord;
      const { workflowExecution, activityId } = Context.current().info;
      if (!workflowExecution) throw missing(target, 'this call runs outside any workflow');
      if (record.target !== target || record.argsHash !== hashArgs(args) || record.runWorkflowId !== workflowExecution.workflowId) {
        throw missing(target, `approval request ${grant.requestId} approved a different call`);
      }
      // The first activity to claim the approval owns it (and its retries, the same activity id);
      // the claim is a create-if-absent beside the record, so two racing activities cannot both win.
      // Records claimed before claims existed carry `usedBy` in the record itself.
      const usedBy = { runId: workflowExecution.runId, activityId };
      const claimKey = keyOf(grant).replace(/\.json$/, '.claim.json');
      const owner = record.usedBy ?? ((await files.create(claimKey, JSON.stringify(usedBy))) ? usedBy : (JSON.parse((await files.read(claimKey)) ?? '{}') as Partial<typeof usedBy>));
      if (owner.runId !== usedBy.runId || owner.activityId !== usedBy.activityId) {
        throw missing(target, `approval request ${grant.requestId} was already used`);
      }
    },
  };
}

/** The arguments of a call as its approval request showed them. */
export function approvedArgs(call: PlannedCall): Record<string, unknown> {
  return call.args ?? (call.argsRef ? { argsRef: call.argsRef } : {});
}

function hashArgs(args: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(args)).digest('hex');
}

/** `approvals:record` and `approvals:deliver`, for the conversation. */
export function createApprovalRecordActivities(records: ApprovalRecords): ApprovalRecordActivities {
  return {
    [RECORD_APPROVAL_ACTIVITY]: (input) => records.record(input),
    async [DELIVER_APPROVAL_ACTIVITY]({ runWorkflowId, verdict }) {
      // The worker's own client; the update id makes a retried delivery land once.
      const handle = Context.current().client.workflow.getHandle(runWorkflowId);
      try {
        await handle.executeUpdate(APPROVAL_VERDICT_UPDATE, { args: [verdict], updateId: `approval:${verdict.requestId}` });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) {
          const why = error instanceof WorkflowUpdateFailedError ? (error.cause?.message ?? error.message) : 'it has finished';
          throw ApplicationFailure.nonRetryable(`The run that asked (${runWorkflowId}) no longer waits for approval request ${verdict.requestId}: ${why}`, 'ApprovalNoLongerPending');
        }
        throw error;
      }
    },
  };
}

export function createLocalApprovalRecords(options: { directory: string }): ApprovalRecords {
  return createApprovalRecords(createLocalRecordFiles(options));
}

/** In memory: for one process that never restarts (tests of a single worker). */
export function createMemoryApprovalRecords(): ApprovalRecords {
  return createApprovalRecords(createMemoryRecordFiles());
}

/** The records that sit next to the transcript store the same settings describe. */
export function createApprovalRecordsFor(settings: TranscriptStoreSettings, deps: { s3Client?: S3Client } = {}): ApprovalRecords {
  return createApprovalRecords(recordFilesFor(settings, deps));
}
