import { existsSync } from 'node:fs';
import { ConfigError } from '../config/load-settings.ts';

/**
 * The `workflowBundle` option for the bundle file `WORKFLOW_BUNDLE_PATH` names (built with the
 * image by `npm run build:workflows`), or undefined without one: the worker then bundles
 * `workflows/` at start. Kept apart from the bundler so the worker's entry never loads it.
 */
export function prebuiltWorkflowBundle(path: string | undefined): { codePath: string } | undefined {
  if (!path) return undefined;
  if (!existsSync(path))
    throw new ConfigError(
      `WORKFLOW_BUNDLE_PATH=${path} does not exist: build it with npm run build:workflows, or unset WORKFLOW_BUNDLE_PATH to bundle at start.`,
    );
  return { codePath: path };
}
