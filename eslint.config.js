import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

/** The SDK's internal paths change without notice between releases: values come from the packages' public entries. */
const sdkInternals = {
  group: ['@temporalio/*/lib/*', '@temporalio/*/lib/**'],
  message: 'Import from the package itself (or core/), not from an SDK-internal path.',
  allowTypeImports: true,
};

/**
 * Everything the workflow bundle may reach: the workflows and core/, the deterministic code they
 * share. A folder rule: a module that needs Node, the network or a worker-side library belongs in
 * another folder (test/contracts/workflow-sandbox.test.ts walks a workflow's imports and fails
 * when one leaves these folders).
 */
export const WORKFLOW_SANDBOX_FILES = ['workflows/**/*.ts', 'core/**/*.ts'];

export default tseslint.config(
  // node_modules/ is ignored by ESLint itself; these are written by `cdk synth`, `npm run build:workflows` and the ingress bench.
  { ignores: ['cdk.out/', 'dist/', 'bench/out/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [sdkInternals] }],
    },
  },
  {
    // Workflows are replayed: only @temporalio/workflow, type imports and pure modules.
    files: WORKFLOW_SANDBOX_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code is deterministic: no Node built-ins.' })),
          patterns: [
            sdkInternals,
            {
              group: ['@temporalio/worker', '@temporalio/client', '@temporalio/activity', '@temporalio/testing'],
              message: 'Workflow code imports only @temporalio/workflow.',
              allowTypeImports: true,
            },
            {
              group: [
                '**/worker/**',
                '**/agents/**',
                '**/functions/**',
                '**/local/**',
                '**/store/**',
                '**/cli/**',
                '**/temporal-client/**',
                '**/telemetry/**',
                '**/config/**',
                '**/events/**',
                '**/authoring/**',
                '**/testkit/**',
                '**/eval/**',
                '**/infra/**',
              ],
              message: 'Worker-side modules stay out of the workflow bundle.',
              allowTypeImports: true,
            },
            {
              group: ['@google/genai', '@aws-sdk/*', '@slack/*', 'hono', 'hono/*', 'zod', '@modelcontextprotocol/*'],
              message: 'Worker-side libraries stay out of the workflow bundle.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
