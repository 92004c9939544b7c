import { MockActivityEnvironment, defaultActivityInfo } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createApprovalRecords } from '../../store/approval-records.ts';
import { useRecordBackends } from '../../testkit/record-backends.ts';

// One approval, many activities claiming it at once (a duplicated tool call, two workers): with
// a read-then-write claim several could pass; with create-if-absent exactly one does.
const RACERS = 12;

const backends = useRecordBackends('claims');

describe.each(backends.all)('approval claims in %s', (_name, filesOf) => {
  it('lets exactly one of many racing activities use an approval, and that one again on retry', async () => {
    const files = filesOf();
    const records = createApprovalRecords(files);
    const grant = { conversationId: `c-${crypto.randomUUID()}`, requestId: 'r1' };
    const call = { target: 'tool:pay', args: { amount: 250 } };
    // Recorded twice at once: the first record stays.
    await Promise.all([
      records.record({ ...grant, runWorkflowId: 'c1/turn-1', ...call, approver: 'U1', decidedAt: '2026-01-01T00:00:00Z' }),
      records.record({ ...grant, runWorkflowId: 'c1/turn-1', ...call, approver: 'U2', decidedAt: '2026-01-01T00:00:01Z' }),
    ]);

    const claim = (activityId: string) =>
      new MockActivityEnvironment({
        activityId,
        workflowExecution: { workflowId: 'c1/turn-1', runId: 'run-1' },
        workflowType: defaultActivityInfo.workflowType,
      }).run(() => records.check(grant, call));
    const outcomes = await Promise.allSettled(Array.from({ length: RACERS }, (_, index) => claim(String(index))));
    const winners = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [String(index)] : []));
    expect(winners).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected')
        expect(outcome.reason).toMatchObject({ type: 'ApprovalMissing', message: expect.stringContaining('already used') });
    }
    // The winner's retry (same activity) still passes; anyone else still fails.
    await claim(winners[0]!);
    await expect(claim('late')).rejects.toMatchObject({ message: expect.stringContaining('already used') });
  });
});
