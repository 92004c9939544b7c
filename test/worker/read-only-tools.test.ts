import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { ModelStepInput, ModelStepResult } from '../../core/contracts/model.ts';
import type { ToolActivities } from '../../core/contracts/tools.ts';
import type { PlannedCall, ToolResultRef } from '../../core/spec.ts';
import { fuseReadOnlyTools } from '../../worker/activities/read-only-tools.ts';

// The model call's side of a read-only step, in an activity context: which calls it runs, under which ids, and when it hands them back.

const input = (tools: string[], timeoutMs = 60_000): ModelStepInput => ({
  specRef: 'sha256:spec',
  head: 'sha256:head',
  readOnlyTools: { tools: tools.map((name) => ({ name, timeoutMs })), maxCalls: 4 },
});
const modelAsking =
  (...calls: PlannedCall[]) =>
  async (): Promise<ModelStepResult> => ({
    head: 'sha256:next',
    calls,
    text: '',
    usage: { promptTokens: 1, outputTokens: 1, totalTokens: 2 },
  });
const result = (call: PlannedCall, excerpt: string): ToolResultRef => ({ name: call.name, ok: true, excerpt, bytes: excerpt.length });

/** An activity context as a local model call gets it: two minutes to run, from now. */
const modelCall = (info: { activityId?: string; startToCloseTimeoutMs?: number } = {}) =>
  new MockActivityEnvironment({ startToCloseTimeoutMs: 120_000, currentAttemptScheduledTimestampMs: Date.now(), ...info });

/** One fused model call in that context. */
const callIn = (env: MockActivityEnvironment, fused: ReturnType<typeof fuseReadOnlyTools>, asked: ModelStepInput) =>
  env.run(fused, asked) as Promise<ModelStepResult>;

/** Answers after `ms`, or fails when its context is cancelled, as a tool activity does. */
function slowTool(ms: number): ToolActivities[`tool:${string}`] {
  return async ({ call }) => {
    const { cancellationSignal } = Context.current();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      cancellationSignal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('cancelled'));
      });
    });
    return result(call, 'slow');
  };
}

describe('fuseReadOnlyTools', () => {
  it('runs every call of an answer made only of offered tools, each under an id of its own', async () => {
    const ids: string[] = [];
    const tools: ToolActivities = {
      'tool:read': async ({ call }) => {
        ids.push(`${Context.current().info.activityType} ${Context.current().info.activityId}`);
        return result(call, String(call.args?.key));
      },
    };
    const fused = fuseReadOnlyTools(modelAsking({ name: 'read', args: { key: 'a' } }, { name: 'read', args: { key: 'b' } }), tools);
    const step = await callIn(modelCall({ activityId: '7' }), fused, input(['read']));
    expect(step.toolResults?.map((one) => one.excerpt)).toEqual(['a', 'b']);
    expect(ids.sort()).toEqual(['tool:read 7/1', 'tool:read 7/2']);
  });

  it('leaves the calls to the run when one names a tool not offered, or a tool fails', async () => {
    const tools: ToolActivities = {
      'tool:read': async ({ call }) => result(call, 'read'),
      'tool:write': async ({ call }) => result(call, 'written'),
      'tool:broken': async () => {
        throw new Error('down');
      },
    };
    const mixed = fuseReadOnlyTools(modelAsking({ name: 'read' }, { name: 'write' }), tools);
    expect((await callIn(modelCall(), mixed, input(['read']))).toolResults).toBeUndefined();
    const failing = fuseReadOnlyTools(modelAsking({ name: 'read' }, { name: 'broken' }), tools);
    expect((await callIn(modelCall(), failing, input(['read', 'broken']))).toolResults).toBeUndefined();
  });

  it("stops a tool at its own timeout, and before the model call's start-to-close would end the call (then retried, model and tools again)", async () => {
    const tools: ToolActivities = { 'tool:slow': slowTool(5_000) };
    const fused = fuseReadOnlyTools(modelAsking({ name: 'slow' }), tools);
    let started = Date.now();
    expect((await callIn(modelCall(), fused, input(['slow'], 200))).toolResults).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(Date.now() - started).toBeLessThan(2_000);

    started = Date.now();
    expect((await callIn(modelCall({ startToCloseTimeoutMs: 1_500 }), fused, input(['slow']))).toolResults).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});
