/**
 * package.json cannot hold comments, so the reasons for its entries that no code explains live
 * here. test/contracts/production-dependencies.test.ts reads these lists: a package in
 * `dependencies` must be imported by a deployable or named below, and so must every
 * devDependency that no file imports and no script runs, and every `overrides` entry.
 */

/** In `dependencies` although no deployable imports it (the worker image installs it). */
export const PRODUCTION_PINS_WITHOUT_IMPORTS: Readonly<Record<string, string>> = {};

/** In `devDependencies` although no file imports it and no npm script runs it. */
export const DEV_PINS_WITHOUT_IMPORTS: Readonly<Record<string, string>> = {
  '@aws-cdk/cloud-assembly-schema':
    'aws-cdk-lib loads it at synth; its lock entry nests it under a package with bundled dependencies, which npm ci leaves out, so it is a direct dependency (a version aws-cdk-lib accepts, ^54.24)',
  '@types/node': "Node's types, for tsc (tsconfig.json's `types: ['node']`)",
};

/** Each entry of package.json's `overrides`, and why the version is forced. */
export const OVERRIDE_NOTES: Readonly<Record<string, string>> = {
  '@swc/core':
    "@temporalio/worker's webpack build of the workflow bundle compiles with SWC; newer releases lacked a platform package on the registry, so npm ci refused the lock. Pinned to 1.16.18, whose every platform package the registry serves",
};
