import * as z from 'zod';
import { flag, loadSettingGroups, optionalText, positiveInteger, requiredText, type Environment } from './load-settings.ts';
import { dispatchSettingsSchema, type DispatchSettings } from './dispatcher-settings.ts';
import { slackEdgeSettingsSchema, type SlackEdgeSettings } from './slack-edge-settings.ts';
import { transcriptStoreSettingsSchema, type TranscriptStoreSettings } from './transcript-store-settings.ts';
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
  GOOGLE_API_KEY: optionalText.meta({ description: 'Gemini API key.', unset: 'the offline, scripted model, announced as such' }),
  TEMPORAL_ADDRESS: optionalText.meta({
    description: 'Temporal frontend (the rest of the connection through `@temporalio/envconfig`).',
    unset: 'a local dev server the program starts',
  }),
  TEMPORAL_CLI_PATH: optionalText.meta({
    description: '`temporal` binary the dev server runs.',
    unset: "`temporal` on PATH, then the cache `.ci/run` fills, then the SDK's download",
  }),
  TEMPORAL_UI: flag(true).meta({ description: "Serve the dev server's Web UI." }),
  EMBEDDED_WORKER: flag(true).meta({ description: 'Run a worker in the same process (with terminal replies).' }),
  AGENT: optionalText.meta({ description: 'The agent the chat and `ask` talk to.', unset: "the registry's default, `assistant`" }),
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
  .pipe(
    z
      .number({ message: 'PORT must be a port number' })
      .int({ message: 'PORT must be a port number' })
      .min(0)
      .max(65535, { message: 'PORT must be a port number' }),
  );

/** Where `npm run ingress` listens. */
export const slackEdgeServerSchema = z.object({
  PORT: port.meta({ description: 'Port `npm run ingress` listens on.' }),
  HOST: z.string().trim().min(1).default('127.0.0.1').meta({ description: 'Address `npm run ingress` listens on.' }),
});

/** `npm run ingress`: the Slack edge's app on a local port, queueing through the AWS SDK. */
export function loadSlackEdgeRunnerSettings(env: Environment): { edge: SlackEdgeSettings; server: { PORT: number; HOST: string } } {
  return loadSettingGroups({ edge: slackEdgeSettingsSchema, server: slackEdgeServerSchema }, env, 'local Slack edge');
}

export const pollerSettingsSchema = z.object({
  DISPATCH_QUEUE_URL: z.url({ message: 'DISPATCH_QUEUE_URL must be the URL of the ingress SQS FIFO queue' }).meta({
    description: 'The SQS FIFO queue the edges write to, which `npm run dispatch` polls (in AWS the event source mapping polls it).',
  }),
  DISPATCH_WAIT_SECONDS: positiveInteger('DISPATCH_WAIT_SECONDS', 20)
    .pipe(z.number().max(20, { message: 'DISPATCH_WAIT_SECONDS is at most 20' }))
    .meta({ description: 'Long-poll wait of one ReceiveMessage, in seconds (at most 20).' }),
  DISPATCH_VISIBILITY_TIMEOUT_SECONDS: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? undefined : Number(value)))
    .pipe(z.number({ message: 'DISPATCH_VISIBILITY_TIMEOUT_SECONDS must be a number of seconds' }).int().nonnegative().optional())
    .meta({
      description: 'How long a received message stays hidden, in seconds; a failed one comes back after it.',
      unset: "the queue's own",
    }),
  DISPATCH_CONCURRENT_BATCHES: positiveInteger('DISPATCH_CONCURRENT_BATCHES', 5)
    .pipe(z.number().max(100, { message: 'DISPATCH_CONCURRENT_BATCHES is at most 100' }))
    .meta({
      description:
        "Batches `npm run dispatch` has in flight at once, each its own receive → handle → delete loop, as Lambda's event source keeps several (it starts with five); a slow delivery then holds back only its own batch. FIFO order per message group holds: SQS hands out none of a group's messages while one is in flight.",
    }),
});

export type PollerSettings = z.infer<typeof pollerSettingsSchema>;

/** `npm run dispatch`: the dispatcher's handler fed by a long-poll loop. Temporal through envconfig. */
export function loadDispatchRunnerSettings(env: Environment): { dispatch: DispatchSettings; poller: PollerSettings } {
  return loadSettingGroups({ dispatch: dispatchSettingsSchema, poller: pollerSettingsSchema }, env, 'local dispatcher');
}

/** `npm run dispatch:redrive`'s queues. */
export const redriveSettingsSchema = z.object({
  DISPATCH_DLQ_URL: requiredText('DISPATCH_DLQ_URL', 'the dead-letter queue to move messages from').meta({
    description: 'The dead-letter queue `npm run dispatch:redrive` moves messages from.',
  }),
  DISPATCH_QUEUE_URL: requiredText('DISPATCH_QUEUE_URL', 'the queue to move them back to').meta({
    description: 'The queue it moves them back to.',
  }),
});

/** `npm run dispatch:redrive`: from the dead-letter queue back to the queue. */
export function loadRedriveSettings(env: Environment): { DISPATCH_DLQ_URL: string; DISPATCH_QUEUE_URL: string } {
  return loadSettingGroups({ redrive: redriveSettingsSchema }, env, 'redrive').redrive;
}

/** `npm start`'s own settings, besides the terminal programs' ones. */
export const stackSettingsSchema = z.object({
  DATA_DIR: z.string().trim().min(1).default('.data').meta({
    description:
      "Where the stack keeps everything it must not lose: Temporal's database, the queue, the stand-ins' messages, local secrets, logs; the transcripts go to `$DATA_DIR/transcripts` unless TRANSCRIPT_DIR is set.",
  }),
  CONSOLE_PORT: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? 8700 : Number(value)))
    .pipe(
      z
        .number({ message: 'CONSOLE_PORT must be a port number' })
        .int({ message: 'CONSOLE_PORT must be a port number' })
        .min(0)
        .max(65535, { message: 'CONSOLE_PORT must be a port number' }),
    )
    .meta({ description: 'Port of the console (`0`: any free port).' }),
  CONSOLE_HOST: z.string().trim().min(1).default('127.0.0.1').meta({ description: 'Address the console listens on.' }),
  OFFLINE_MODEL_DELAY_MS: z.coerce
    .number({ message: 'OFFLINE_MODEL_DELAY_MS must be a number of milliseconds' })
    .int()
    .nonnegative()
    .default(0)
    .meta({ description: 'Pause of the offline model before each answer, in milliseconds, to watch a turn (or kill one) in flight.' }),
  EMAIL_AGENT_DOMAIN: z
    .string()
    .trim()
    .min(1)
    .default('agents.local')
    .meta({ description: "Domain of the agents' addresses in the console's mail pane." }),
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
