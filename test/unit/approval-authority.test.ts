import { MockActivityEnvironment, defaultActivityInfo } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { allowedApprovers, expandGroups, namedApprovers, policyFor } from '../../core/approval-policy.ts';
import { compileAgent, defineAgent, mcpServersOf } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import { createApprovalRecords } from '../../store/approval-records.ts';
import { createMemoryRecordFiles } from '../../store/record-files.ts';

const tool = (name: string, options: { approvers?: string[]; notRequester?: boolean } = {}) =>
  defineTool({
    name,
    description: name,
    input: z.object({ x: z.string().describe('x') }),
    approval: true,
    handler: () => null,
    ...options,
  });

describe('approver policies', () => {
  const agent = defineAgent({
    name: 'payments',
    instructions: 'Pay.',
    approverGroups: { finance: ['U123', 'ana@example.com'] },
    approvers: ['U-OPS'],
    tools: [tool('pay', { approvers: ['finance', 'U999'], notRequester: true }), tool('read')],
  });
  const spec = compileAgent(agent);

  it('expands groups at compile time; a tool without approvers falls back to the agent', () => {
    expect(spec.tools[0]!.approvalPolicy).toEqual({ approvers: ['U123', 'ana@example.com', 'U999'], notRequester: true });
    expect(policyFor(spec, 'read')).toEqual({ approvers: ['U-OPS'] });
    expect(expandGroups(['finance', 'finance', 'U1'], { finance: ['a', 'A'] })).toEqual(['a', 'U1']);
    expect(namedApprovers(spec)).toEqual(['U-OPS', 'U123', 'ana@example.com', 'U999']);
  });

  it('leaves out every requester under notRequester; with no one named, the people who asked decide', () => {
    const scope = { configured: [], requesters: ['U123', 'ANA@example.com', 'U-X'] };
    expect(allowedApprovers(policyFor(spec, 'pay'), scope)).toEqual(['U999']);
    expect(allowedApprovers({ approvers: [] }, scope)).toEqual(['U123', 'ANA@example.com', 'U-X']);
    expect(allowedApprovers({ approvers: [], notRequester: true }, scope)).toEqual([]);
    expect(allowedApprovers({ approvers: [], notRequester: true }, { configured: ['U-LEAD', 'U-X'], requesters: ['U-X'] })).toEqual([
      'U-LEAD',
    ]);
  });

  it('keeps what an MCP server runs out of the spec, and refuses one name for two programs', () => {
    const withServer = defineAgent({
      name: 'a',
      instructions: 'A.',
      mcpServers: [{ name: 'orders', transport: 'stdio', command: 'node', args: ['s.js'], approval: true }],
    });
    expect(compileAgent(withServer).mcpServers).toEqual([{ name: 'orders', approval: true }]);
    expect(mcpServersOf([withServer]).orders).toMatchObject({ command: 'node' });
    const other = defineAgent({
      name: 'b',
      instructions: 'B.',
      mcpServers: [{ name: 'orders', transport: 'http', url: 'http://127.0.0.1:1/mcp' }],
    });
    expect(() => mcpServersOf([withServer, other])).toThrow('MCP server "orders" is defined twice');
  });
});

describe('approval records', () => {
  const grant = { conversationId: 'c1', requestId: 'r1' };
  const granted = {
    ...grant,
    runWorkflowId: 'c1/turn-1',
    target: 'tool:pay',
    args: { x: 'a', y: 1 },
    approver: 'U999',
    decidedAt: '2026-01-01T00:00:00Z',
  };
  const inActivity = (info: { workflowId?: string; runId?: string; activityId?: string }, check: () => Promise<void>) =>
    new MockActivityEnvironment({
      activityId: info.activityId ?? '5',
      workflowExecution: { workflowId: info.workflowId ?? 'c1/turn-1', runId: info.runId ?? 'run-1' },
      workflowType: defaultActivityInfo.workflowType,
    }).run(check);

  it('admits only the approved call, of the run that asked, used by one activity (and its retries)', async () => {
    const records = createApprovalRecords(createMemoryRecordFiles());
    const check =
      (call: { target: string; args: Record<string, unknown> }, withGrant = true) =>
      () =>
        records.check(withGrant ? grant : undefined, call);
    await expect(inActivity({}, check({ target: 'tool:pay', args: { x: 'a', y: 1 } }))).rejects.toMatchObject({
      type: 'ApprovalMissing',
      message: expect.stringContaining('never granted'),
    });
    await records.record(granted);
    await expect(inActivity({}, check({ target: 'tool:pay', args: { x: 'a', y: 1 } }, false))).rejects.toMatchObject({
      type: 'ApprovalMissing',
      nonRetryable: true,
    });
    await expect(inActivity({}, check({ target: 'tool:pay', args: { x: 'b', y: 1 } }))).rejects.toMatchObject({
      message: expect.stringContaining('a different call'),
    });
    await expect(inActivity({}, check({ target: 'tool:wipe', args: { x: 'a', y: 1 } }))).rejects.toMatchObject({
      message: expect.stringContaining('a different call'),
    });
    await expect(inActivity({ workflowId: 'forged' }, check({ target: 'tool:pay', args: { y: 1, x: 'a' } }))).rejects.toMatchObject({
      type: 'ApprovalMissing',
    });
    // Keys in any order: the arguments are compared canonically.
    await inActivity({}, check({ target: 'tool:pay', args: { y: 1, x: 'a' } }));
    await inActivity({}, check({ target: 'tool:pay', args: { x: 'a', y: 1 } }));
    await expect(inActivity({ runId: 'run-2' }, check({ target: 'tool:pay', args: { x: 'a', y: 1 } }))).rejects.toMatchObject({
      message: expect.stringContaining('already used'),
    });
    await expect(inActivity({ activityId: '9' }, check({ target: 'tool:pay', args: { x: 'a', y: 1 } }))).rejects.toMatchObject({
      message: expect.stringContaining('already used'),
    });
  });
});
