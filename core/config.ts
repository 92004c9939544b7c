import * as z from 'zod';
import { loadSettingsFrom, optionalText } from './load-settings.ts';

export { ConfigError } from './load-settings.ts';

const optionalUrl = (variable: string) =>
  z
    .string()
    .trim()
    .transform((value) => (value === '' ? undefined : value))
    .pipe(z.url({ message: `${variable} must be a URL, e.g. http://127.0.0.1:8080` }).optional())
    .optional();

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : ['true', '1', 'yes'].includes(value)));

/** A Temporal duration such as '30 seconds', '24 hours' or '1h'. */
const duration = (variable: string, fallback: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : value))
    .refine((value) => /^\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)$/i.test(value), {
      message: `${variable} must be a duration such as '30 seconds', '1 hour' or '24h'`,
    });

/** Every setting, its variable, and its default. The README's configuration table mirrors it. */
export const settingsSchema = z.object({
  GOOGLE_API_KEY: optionalText,
  GEMINI_BASE_URL: optionalUrl('GEMINI_BASE_URL'),
  GEMINI_MODEL: optionalText,
  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('agents'),
  TEMPORAL_CLI_PATH: optionalText,
  TEMPORAL_UI: flag(true),
  EMBEDDED_WORKER: flag(true),
  MODEL_CALLS_PER_SECOND: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce.number({ message: 'MODEL_CALLS_PER_SECOND must be a number' }).positive().optional(),
  ),
  AGENT: optionalText,
  DOCS_DIR: optionalText,
  NWS_BASE_URL: optionalUrl('NWS_BASE_URL'),
  IP_API_BASE_URL: optionalUrl('IP_API_BASE_URL'),
  /** Domain of the agents' own addresses (`<agent>@<domain>`): where ambient runs' emails come from. */
  EMAIL_AGENT_DOMAIN: optionalText,
  /** A conversation with no message for this long completes; its next message resumes it. */
  CONVERSATION_IDLE_TIMEOUT: duration('CONVERSATION_IDLE_TIMEOUT', '24 hours'),
  /** How long a person has to decide on a tool call that tool and agent give no timeout of their own; then it is denied. */
  APPROVAL_TIMEOUT: duration('APPROVAL_TIMEOUT', '1 hour'),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Reads and validates the environment once; a bad value names the variable to fix. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return loadSettingsFrom(settingsSchema, env, 'agent');
}
