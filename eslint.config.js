import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', 'bench/out/', 'infra/cdk.out/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Workflows are replayed: only @temporalio/workflow, type imports and pure modules.
    files: ['workflows/**/*.ts', 'core/spec.ts', 'core/run-events.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code is deterministic: no Node built-ins.' })),
          patterns: [
            { group: ['@temporalio/worker', '@temporalio/client', '@temporalio/activity', '@temporalio/testing'], message: 'Workflow code imports only @temporalio/workflow.', allowTypeImports: true },
            { group: ['**/worker/**', '**/agents/**', '**/functions/**', '**/local/**', '**/store/**', '**/cli/**'], message: 'Worker-side modules stay out of the workflow bundle.', allowTypeImports: true },
            { group: ['@google/genai', '@aws-sdk/*', '@slack/*', 'hono', 'hono/*', 'zod', 'pino', '@modelcontextprotocol/*'], message: 'Worker-side libraries stay out of the workflow bundle.', allowTypeImports: true },
          ],
        },
      ],
    },
  },
);
