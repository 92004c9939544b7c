import { createHash } from 'node:crypto';
import { MockActivityEnvironment, defaultActivityInfo } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createAmbientMemoryStore } from '../../store/ambient-memory.ts';
import { createApprovalRecords } from '../../store/approval-records.ts';
import { createBudgetLedger } from '../../store/budget-ledger.ts';
import { createConversationIndex } from '../../store/conversation-index.ts';
import { createEmailThreadIndex } from '../../store/email-thread-index.ts';
import { createPostedReplies } from '../../store/posted-replies.ts';
import { createMemoryRecordFiles } from '../../store/record-files.ts';

// The record stores read what earlier versions wrote, where they wrote it: a deployment's
// folder or bucket keeps its records across an upgrade. Paths are spelled out here, not taken
// from the stores.
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const split = (folder: string, id: string, suffix = '.json') => `${folder}/${sha256(id).slice(0, 2)}/${sha256(id).slice(2)}${suffix}`;

describe('record layouts', () => {
  it('conversation index: conversations/ab/cdef….json by the conversation id', async () => {
    const files = createMemoryRecordFiles();
    const saved = {
      conversationId: 'slack:T:C:1',
      transcriptHead: `sha256:${'1'.repeat(64)}`,
      turns: 3,
      recentMessageIds: [['m-1', 1]],
      updatedAt: '2026-12-07T00:00:00.000Z',
    };
    await files.write(split('conversations', 'slack:T:C:1'), JSON.stringify(saved));
    expect(await createConversationIndex(files).load('slack:T:C:1')).toEqual(saved);
  });

  it('ambient memory: ambient/ab/cdef….json by agent and trigger', async () => {
    const files = createMemoryRecordFiles();
    const memory = {
      agent: 'watcher',
      trigger: 'daily',
      lastOutcome: 'posted',
      lastSummary: 'Two new issues.',
      runs: 4,
      updatedAt: '2026-12-07T00:00:00.000Z',
    };
    await files.write(split('ambient', 'watcher\u0000daily'), JSON.stringify(memory));
    expect(await createAmbientMemoryStore(files).load('watcher', 'daily')).toEqual(memory);
  });

  it('email threads: email-threads/<kind>/ab/cdef….json by kind and id; a bad record reads as absent', async () => {
    const files = createMemoryRecordFiles();
    const record = {
      version: 1,
      conversationId: 'email:<a@example.com>',
      agent: 'helper',
      participants: ['ana@example.com'],
      expiresAt: 1_900_000_000,
    };
    await files.write(split('email-threads/token', 'token:tok1'), JSON.stringify(record));
    await files.write(split('email-threads/message', 'message:<r1@agents.example.com>'), JSON.stringify(record));
    await files.write(split('email-threads/sent', 'sent:<r1@agents.example.com>'), JSON.stringify({ sentAt: 1 }));
    await files.write(split('email-threads/token', 'token:bad'), '{"version": 2}');
    const index = createEmailThreadIndex(files);
    expect(await index.getToken('tok1')).toEqual(record);
    expect(await index.getMessage('<r1@agents.example.com>')).toEqual(record);
    expect(await index.wasSent('<r1@agents.example.com>')).toBe(true);
    expect(await index.wasSent('<r2@agents.example.com>')).toBe(false);
    expect(await index.getToken('bad')).toBeUndefined();
  });

  it('posted replies: slack-replies/<sha256>.json, a claim until the ts is recorded over it', async () => {
    const files = createMemoryRecordFiles();
    await files.write(
      `slack-replies/${sha256('mark-1')}.json`,
      JSON.stringify({ ts: '1700000000.000100', postedAt: '2026-12-07T00:00:00.000Z' }),
    );
    await files.write(`slack-replies/${sha256('mark-2')}.json`, JSON.stringify({ claimedAt: '2026-12-07T00:00:00.000Z' }));
    const posted = createPostedReplies(files);
    expect(await posted.lookup(['mark-1', 'mark-2', 'mark-3'])).toEqual(['1700000000.000100', 'pending', undefined]);
    await posted.claim('mark-3');
    expect(await posted.lookup(['mark-3'])).toEqual(['pending']);
    await posted.record('mark-3', '1700000000.000200');
    expect(await posted.lookup(['mark-3'])).toEqual(['1700000000.000200']);
  });

  it('budget counters: budgets/<scope>/<32 hex of the id>/<day>/<n>.json, the newest number holding the state', async () => {
    const files = createMemoryRecordFiles();
    const folder = `budgets/person/${sha256('helper\u0000U-ANA').slice(0, 32)}/2026-12-07`;
    await files.write(`${folder}/1.json`, JSON.stringify({ spent: 0.25, pending: {}, largest: 0.25 }));
    await files.write(`${folder}/2.json`, JSON.stringify({ spent: 0.5, pending: {}, largest: 0.25 }));
    const ledger = createBudgetLedger(files);
    expect(await ledger.spent({ scope: 'person', id: 'helper\u0000U-ANA' }, '2026-12-07')).toBe(0.5);
    await ledger.settle(
      'call-1',
      [{ scope: 'person', id: 'helper\u0000U-ANA', agent: 'helper', cap: 1 }],
      0.1,
      Date.parse('2026-12-07T12:00:00Z'),
    );
    expect(JSON.parse((await files.read(`${folder}/3.json`))!)).toEqual({ spent: 0.6, pending: {}, largest: 0.25 });
  });

  it('approvals: approvals/ab/cdef….json by conversation and request id, the claim beside it as .claim.json', async () => {
    const files = createMemoryRecordFiles();
    const records = createApprovalRecords(files);
    const grant = { conversationId: 'c-1', requestId: 'r1' };
    const call = { target: 'tool:pay', args: { amount: 250 } };
    await records.record({ ...grant, runWorkflowId: 'c-1/turn-1', ...call, approver: 'U1', decidedAt: '2026-12-07T00:00:00Z' });
    expect(JSON.parse((await files.read(split('approvals', 'c-1\u0000r1')))!)).toMatchObject({
      target: 'tool:pay',
      approver: 'U1',
      argsHash: sha256('{"amount":250}'),
    });
    await new MockActivityEnvironment({
      activityId: '7',
      workflowExecution: { workflowId: 'c-1/turn-1', runId: 'run-1' },
      workflowType: defaultActivityInfo.workflowType,
    }).run(() => records.check(grant, call));
    expect(JSON.parse((await files.read(split('approvals', 'c-1\u0000r1', '.claim.json')))!)).toEqual({ runId: 'run-1', activityId: '7' });
  });
});
