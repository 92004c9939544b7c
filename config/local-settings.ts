import * as z from 'zod';
import { flag, loadSettingGroups, optionalText, positiveInteger, requiredText, type Environment } from './load-settings.ts';
import { dispatchSettingsSchema, type DispatchSettings } from './dispatcher-settings.ts';
import { slackEdgeSettingsSchema, type SlackEdgeSettings } from './slack-edge-settings.ts';
import { transcriptStoreSettingsSchema, type TranscriptStoreSettings } from '../store/create-store.ts';
import {
  agentWorkerSettingsSchema,
  emailReplySettingsSchema,
  slackReplySettingsSchema,
  type AgentWorkerSettings,
  type EmailReplySettings,
  type SlackReplySettings,
} from './worker-settings.ts';
import { findTemporalCli } from '../local/temporal-dev-server.ts';

/**
 * Settings of the local programs (`npm start`, `npm run ask`, `npm run ingress`, `npm run
 * dispatch`, `npm run dispatch:redrive`), each read once by its entry. Unlike the deployables,
 * the terminal programs default what is missing: no TEMPORAL_ADDRESS starts a dev server, no
 * GOOGLE_API_KEY the offline model.
 */
export const terminalSettingsSchema = z.object({
  /** Gemini API key. @default unset: the offline, scripted model */
  GOOGLE_API_KEY: optionalText,
  /** Temporal frontend (the rest through `@temporalio/envconfig`). @default unset: a local dev server */
  TEMPORAL_ADDRESS: optionalText,
  /** `temporal` binary for the dev server. @default `temporal` on PATH, then the cache `.ci/run` fills, then the SDK's download */
  TEMPORAL_CLI_PATH: optionalText,
  /** Serve the dev server's Web UI. @default true */
  TEMPORAL_UI: flag(true),
  /** Run a worker in the same process. @default true */
  EMBEDDED_WORKER: flag(true),
  /** The agent the chat and `ask` talk to. @default the registry's default (`assistant`) */
  AGENT: optionalText,
});

export interface TerminalSettings {
  terminal: z.infer<typeof terminalSettingsSchema>;
  agents: AgentWorkerSettings;
  transcripts: TranscriptStoreSettings;
  slack: SlackReplySettings;
  email: EmailReplySettings;
  /** The Temporal CLI the dev server runs; undefined lets the SDK download one. */
  temporalCli: string | undefined;
}

/** `npm start` and `npm run ask`. */
export function loadTerminalSettings(env: Environment): TerminalSettings {
  const groups = loadSettingGroups(
    {
      terminal: terminalSettingsSchema,
      agents: agentWorkerSettingsSchema,
      transcripts: transcriptStoreSettingsSchema,
      slack: slackReplySettingsSchema,
      email: emailReplySettingsSchema,
    },
    env,
    'local',
  );
  return { ...groups, temporalCli: findTemporalCli({ TEMPORAL_CLI_PATH: groups.terminal.TEMPORAL_CLI_PATH, PATH: env.PATH }) };
}

const port = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === undefined || value === '' ? 8787 : Number(value)))
  .pipe(z.number({ message: 'PORT must be a port number' }).int({ message: 'PORT must be a port number' }).min(0).max(65535, { message: 'PORT must be a port number' }));

/** `npm run ingress`: the Slack edge's app on a local port, queueing through the AWS SDK. */
export function loadSlackEdgeRunnerSettings(env: Environment): { edge: SlackEdgeSettings; server: { PORT: number; HOST: string } } {
  return loadSettingGroups(
    { edge: slackEdgeSettingsSchema, server: z.object({ PORT: port, HOST: z.string().trim().min(1).default('127.0.0.1') }) },
    env,
    'local Slack edge',
  );
}

export const pollerSettingsSchema = z.object({
  /** The SQS FIFO queue the edges write to (in AWS the event source mapping polls it). */
  DISPATCH_QUEUE_URL: z.url({ message: 'DISPATCH_QUEUE_URL must be the URL of the ingress SQS FIFO queue' }),
  /** Long-poll wait of one ReceiveMessage. @default 20 s */
  DISPATCH_WAIT_SECONDS: positiveInteger('DISPATCH_WAIT_SECONDS', 20).pipe(z.number().max(20, { message: 'DISPATCH_WAIT_SECONDS is at most 20' })),
  /** How long a received message stays hidden; a failed one comes back after it. @default the queue's own */
  DISPATCH_VISIBILITY_TIMEOUT_SECONDS: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? undefined : Number(value)))
    .pipe(z.number({ message: 'DISPATCH_VISIBILITY_TIMEOUT_SECONDS must be a number of seconds' }).int().nonnegative().optional()),
});

export type PollerSettings = z.infer<typeof pollerSettingsSchema>;

/** `npm run dispatch`: the dispatcher's handler fed by a long-poll loop. Temporal through envconfig. */
export function loadDispatchRunnerSettings(env: Environment): { dispatch: DispatchSettings; poller: PollerSettings } {
  return loadSettingGroups({ dispatch: dispatchSettingsSchema, poller: pollerSettingsSchema }, env, 'local dispatcher');
}

/** `npm run dispatch:redrive`: from the dead-letter queue back to the queue. */
export function loadRedriveSettings(env: Environment): { DISPATCH_DLQ_URL: string; DISPATCH_QUEUE_URL: string } {
  return loadSettingGroups(
    {
      redrive: z.object({
        DISPATCH_DLQ_URL: requiredText('DISPATCH_DLQ_URL', 'the dead-letter queue to move messages from'),
        DISPATCH_QUEUE_URL: requiredText('DISPATCH_QUEUE_URL', 'the queue to move them back to'),
      }),
    },
    env,
    'redrive',
  ).redrive;
}

/** `npm start`'s own settings, besides the terminal programs' ones. */
export const stackSettingsSchema = z.object({
  /** Where the stack keeps everything it must not lose: Temporal's database, the queue, the stand-ins' messages, logs. @default '.data' */
  DATA_DIR: z.string().trim().min(1).default('.data'),
  /** Port of the console (0: any free port). @default 8700 */
  CONSOLE_PORT: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? 8700 : Number(value)))
    .pipe(z.number({ message: 'CONSOLE_PORT must be a port number' }).int({ message: 'CONSOLE_PORT must be a port number' }).min(0).max(65535, { message: 'CONSOLE_PORT must be a port number' })),
  /** @default '127.0.0.1' */
  CONSOLE_HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** Pause of the offline model before each answer, to watch a turn (or kill one) in flight. @default 0 */
  OFFLINE_MODEL_DELAY_MS: z.coerce.number({ message: 'OFFLINE_MODEL_DELAY_MS must be a number of milliseconds' }).int().nonnegative().default(0),
  /** Domain of the agents' addresses in the mail pane. @default 'agents.local' */
  EMAIL_AGENT_DOMAIN: z.string().trim().min(1).default('agents.local'),
});

export interface StackSettings extends TerminalSettings {
  stack: z.infer<typeof stackSettingsSchema>;
}

/** `npm start`: the terminal programs' settings, with the transcripts under DATA_DIR unless TRANSCRIPT_DIR says otherwise. */
export function loadStackSettings(env: Environment): StackSettings {
  const { stack } = loadSettingGroups({ stack: stackSettingsSchema }, env, 'local stack');
  const withDefaults = { ...env, TRANSCRIPT_DIR: env.TRANSCRIPT_DIR || `${stack.DATA_DIR}/transcripts` };
  return { ...loadTerminalSettings(withDefaults), stack };
}
