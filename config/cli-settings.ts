import * as z from 'zod';
import { optionalText } from './load-settings.ts';

/**
 * Settings of the command-line tools that reach a deployed Temporal (`npm run schedules`,
 * `npm run deployment`, `npm run costs`). Each reads the connection like the worker: the
 * address here, the rest (namespace, TLS, API key) through `@temporalio/envconfig`.
 */

const temporalAddress = optionalText.meta({
  description:
    "The Temporal frontend (e.g. `127.0.0.1:7233`, or the local stack's dev server); the rest of the connection through `@temporalio/envconfig`.",
  requiredWhen: 'yes: the tool stops with a line naming it',
});

/** `npm run schedules`. */
export const schedulesCommandSchema = z.object({
  TEMPORAL_ADDRESS: temporalAddress,
  TEMPORAL_TASK_QUEUE: z
    .string()
    .trim()
    .min(1)
    .default('agents')
    .meta({ description: "The agents' task queue: where the schedules start runs." }),
  AGENTS_DEPLOYMENT: optionalText.meta({
    description: "The installation's name in the namespace, as the worker reads it.",
    unset: 'the task queue',
  }),
});

/** `npm run deployment`. */
export const deploymentCommandSchema = z.object({
  TEMPORAL_ADDRESS: temporalAddress,
  TEMPORAL_DEPLOYMENT_NAME: optionalText.meta({
    description: 'The Worker Deployment to show or steer.',
    unset: "the `--outputs` file's WorkerDeploymentName, else `durable-agents`",
  }),
});

/** `npm run costs`. */
export const costsCommandSchema = z.object({ TEMPORAL_ADDRESS: temporalAddress });
