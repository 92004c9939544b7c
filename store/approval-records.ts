import * as z from 'zod';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { APPROVAL_VERDICT_UPDATE } from '../core/conversation.ts';
import {
  DELIVER_APPROVAL_ACTIVITY,
  RECORD_APPROVAL_ACTIVITY,
  type ApprovalGrant,
  type ApprovalRecordActivities,
  type RecordApprovalInput,
} from '../core/contracts/tools.ts';
import type { PlannedCall } from '../core/spec.ts';
import { canonicalJson } from './canonical-json.ts';
import { recordFilesFor, type RecordFilesSource } from './record-files.ts';
import { createRecordStore, hashedPath, sha256Hex } from './record-store.ts';

/** The activity that ran first under an approval; its retries may run again, nothing else may. */
const approvalUseSchema = z.object({ runId: z.string(), activityId: z.string() });

/** One granted approval, as the worker keeps it: which call, of which run, and who used it first. */
const approvalRecordSchema = z.looseObject({
  conversationId: z.string(),
  requestId: z.string(),
  runWorkflowId: z.string(),
  target: z.string(),
  /** SHA-256 of the canonical JSON of the arguments the person saw. */
  argsHash: z.string(),
  approver: z.string(),
  decidedAt: z.string(),
  /** Records granted before claims existed carry their use here. */
  usedBy: approvalUseSchema.optional(),
});

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

/** The approvals in `records` (record files, or the transcript store settings they sit next to). */
export function createApprovalRecords(records: RecordFilesSource): ApprovalRecords {
  const files = recordFilesFor(records);
  const idOf = ({ conversationId, requestId }: ApprovalGrant) => `${conversationId}\u0000${requestId}`;
  const approvals = createRecordStore(files, {
    path: (grant: ApprovalGrant) => hashedPath('approvals', idOf(grant)),
    schema: approvalRecordSchema,
  });
  // The claim sits beside the approval: `approvals/ab/cdef….claim.json`.
  const claims = createRecordStore(files, {
    path: (grant: ApprovalGrant) => hashedPath('approvals', idOf(grant), '.claim.json'),
    schema: approvalUseSchema,
  });
  const missing = (target: string, why: string) =>
    ApplicationFailure.nonRetryable(`${target} needs a person's approval and ${why}; it did not run.`, 'ApprovalMissing');
  return {
    async record(input) {
      const { args, ...rest } = input;
      // A retried record (or a late second one) never replaces the first: it may have been used.
      await approvals.createIfAbsent(input, { ...rest, argsHash: hashArgs(args) });
    },
    async check(grant, { target, args }) {
      if (!grant) throw missing(target, 'none was recorded for this call');
      const record = await approvals.get(grant);
      if (record === undefined) throw missing(target, `approval request ${grant.requestId} was never granted`);
      const { workflowExecution, activityId } = Context.current().info;
      if (!workflowExecution) throw missing(target, 'this call runs outside any workflow');
      if (record.target !== target || record.argsHash !== hashArgs(args) || record.runWorkflowId !== workflowExecution.workflowId) {
        throw missing(target, `approval request ${grant.requestId} approved a different call`);
      }
      // The first activity to claim the approval owns it (and its retries, the same activity id);
      // the claim is a create-if-absent beside the record, so two racing activities cannot both win.
      const usedBy = { runId: workflowExecution.runId, activityId };
      const owner = record.usedBy ?? ((await claims.createIfAbsent(grant, usedBy)) ? usedBy : await claims.get(grant));
      if (owner?.runId !== usedBy.runId || owner.activityId !== usedBy.activityId) {
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
  return sha256Hex(canonicalJson(args));
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
          throw ApplicationFailure.nonRetryable(
            `The run that asked (${runWorkflowId}) no longer waits for approval request ${verdict.requestId}: ${why}`,
            'ApprovalNoLongerPending',
          );
        }
        throw error;
      }
    },
  };
}
