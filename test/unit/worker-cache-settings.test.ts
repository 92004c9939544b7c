import { describe, expect, it } from 'vitest';
import { loadWorkerSettings } from '../../config/worker-settings.ts';
import { TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';
import { OPEN_MODEL_CALLS, workflowTaskSlotsFor } from '../../worker/create-worker.ts';

const worker = (env: Record<string, string>) =>
  loadWorkerSettings({ TEMPORAL_ADDRESS: 'temporal:7233', GOOGLE_API_KEY: 'key', PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON, ...env });

describe("the worker's sticky cache bound (WORKER_MAX_CACHED_WORKFLOWS)", () => {
  it("reads a whole number from 2, and leaves it to the SDK's default when unset or empty", () => {
    expect(worker({ WORKER_MAX_CACHED_WORKFLOWS: '500' }).agents.WORKER_MAX_CACHED_WORKFLOWS).toBe(500);
    expect(worker({ WORKER_MAX_CACHED_WORKFLOWS: '2' }).agents.WORKER_MAX_CACHED_WORKFLOWS).toBe(2);
    expect(worker({}).agents.WORKER_MAX_CACHED_WORKFLOWS).toBeUndefined();
    expect(worker({ WORKER_MAX_CACHED_WORKFLOWS: '' }).agents.WORKER_MAX_CACHED_WORKFLOWS).toBeUndefined();
  });

  it('refuses 0 (no cache: later messages go unanswered), 1 (the SDK would quietly raise it to 2), a fraction and a word, naming the variable', () => {
    expect(() => worker({ WORKER_MAX_CACHED_WORKFLOWS: '0' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS must be at least 2/);
    expect(() => worker({ WORKER_MAX_CACHED_WORKFLOWS: '-5' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS must be at least 2/);
    expect(() => worker({ WORKER_MAX_CACHED_WORKFLOWS: '2.5' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS must be a whole number/);
    expect(() => worker({ WORKER_MAX_CACHED_WORKFLOWS: 'many' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS must be a whole number/);
    expect(() => worker({ WORKER_MAX_CACHED_WORKFLOWS: '1' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS must be at least 2/);
  });

  it('keeps the workflow task slots within a bounded cache, and at OPEN_MODEL_CALLS with the cache off or large', () => {
    expect(workflowTaskSlotsFor(24)).toBe(24);
    expect(workflowTaskSlotsFor(0)).toBe(OPEN_MODEL_CALLS);
    expect(workflowTaskSlotsFor(undefined)).toBe(OPEN_MODEL_CALLS);
    expect(workflowTaskSlotsFor(10_000)).toBe(OPEN_MODEL_CALLS);
  });
});
