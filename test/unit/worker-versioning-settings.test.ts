import { TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';
import { describe, expect, it } from 'vitest';
import { deploymentVersionOf, loadWorkerSettings } from '../../config/worker-settings.ts';

const worker = (env: Record<string, string>) =>
  loadWorkerSettings({ TEMPORAL_ADDRESS: 'temporal:7233', GOOGLE_API_KEY: 'key', PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON, ...env });

describe('worker versioning settings', () => {
  it('makes a versioned worker from a deployment name and a build id, and an unversioned one from neither', () => {
    expect(deploymentVersionOf(worker({ TEMPORAL_DEPLOYMENT_NAME: 'durable-agents', TEMPORAL_BUILD_ID: '3f2a9c' }).versioning)).toEqual({
      deploymentName: 'durable-agents',
      buildId: '3f2a9c',
    });
    expect(deploymentVersionOf(worker({}).versioning)).toBeUndefined();
    expect(deploymentVersionOf(worker({ TEMPORAL_DEPLOYMENT_NAME: ' ', TEMPORAL_BUILD_ID: '' }).versioning)).toBeUndefined();
  });

  it('refuses one without the other, and a deployment name Temporal cannot write a version of', () => {
    expect(() => worker({ TEMPORAL_BUILD_ID: '3f2a9c' })).toThrow(/TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_BUILD_ID go together/);
    expect(() => worker({ TEMPORAL_DEPLOYMENT_NAME: 'durable-agents' })).toThrow(
      /TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_BUILD_ID go together/,
    );
    expect(() => worker({ TEMPORAL_DEPLOYMENT_NAME: 'agents.prod', TEMPORAL_BUILD_ID: '3f2a9c' })).toThrow(
      /TEMPORAL_DEPLOYMENT_NAME may not contain dots/,
    );
  });
});
