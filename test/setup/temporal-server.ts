import { readFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { findTemporalCli, startDevServer } from '../../local/temporal-dev-server.ts';
import { buildWorkflowBundle } from '../../worker/workflow-bundle.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the dev server, or '' when it could not start outside CI. */
    temporalAddress: string;
    temporalUnavailable: string;
    workflowBundleCode: string;
  }
}

/**
 * One Temporal dev server for the whole test run, and one workflow bundle. Under CI=true a
 * server that cannot start fails the run; elsewhere the Temporal tests skip and say why.
 */
export default async function setup(project: TestProject) {
  // With WORKFLOW_BUNDLE_PATH (npm run build:workflows, as the image builds it), the tests and the
  // replay gate run that very bundle; otherwise one bundled here.
  const prebuilt = process.env.WORKFLOW_BUNDLE_PATH;
  const code = prebuilt ? readFileSync(prebuilt, 'utf8') : await buildWorkflowBundle();
  project.provide('workflowBundleCode', code);
  try {
    const server = await startDevServer({ executable: findTemporalCli(process.env) });
    project.provide('temporalAddress', server.address);
    project.provide('temporalUnavailable', '');
    return () => server.stop();
  } catch (error) {
    const reason = `Temporal dev server did not start: ${(error as Error).message}. Set TEMPORAL_CLI_PATH or run .ci/run once.`;
    if (process.env.CI === 'true') throw new Error(reason);
    console.warn(reason);
    project.provide('temporalAddress', '');
    project.provide('temporalUnavailable', reason);
    return undefined;
  }
}
