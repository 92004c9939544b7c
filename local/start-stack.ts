import { join } from 'node:path';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import type { AgentRegistry } from '../agents/index.ts';
import type { Environment } from '../config/load-settings.ts';
import type { StackSettings } from '../config/local-settings.ts';
import { RESULTS_DIRECTORY } from '../eval/files.ts';
import { createDispatchBatchHandler } from '../functions/dispatch/dispatch-batch.ts';
import type { TemporalClientProvider } from '../functions/dispatch/temporal-client.ts';
import { parseInboundEmail } from '../functions/email/email.ts';
import { createSlackApp } from '../functions/slack/app.ts';
import { createSuggestedPromptsSetter } from '../functions/slack/slack-post.ts';
import { createTranscriptStore } from '../store/create-store.ts';
import { createEmailThreadIndex } from '../store/email-thread-index.ts';
import {
  createEncryptionCodec,
  encryptedDataConverter,
  PayloadKeyError,
  type PayloadKeySet,
} from '../temporal-client/payload-encryption.ts';
import { composeWorker, type ComposedWorker } from '../worker/compose.ts';
import { createTerminalReplies } from '../worker/replies/terminal.ts';
import { createClosers } from './closers.ts';
import { startConsoleServer, type ConsoleServer } from './console-server.ts';
import { startEmailStandIn, type EmailStandIn, type MailMessage } from './email-stand-in.ts';
import { fileJsonLog } from './file-logger.ts';
import { createInProcessQueue, type InProcessQueue } from './in-process-queue.ts';
import { ensurePrivateDirectory, readJsonFile, writeJsonFile } from './json-file.ts';
import { startLocalModel, type LocalModel } from './local-model.ts';
import { localSecrets, type LocalSecrets } from './local-secrets.ts';
import { serveOnNode } from './node-server.ts';
import { localPayloadKeys, payloadKeysFile } from './payload-keys.ts';
import { liveDevServer, startPersistentDevServer } from './persistent-dev-server.ts';
import { startSlackApiServer, type SlackApiServer, type SlackStoredMessage } from './slack-api-server.ts';
import { StartupError } from './startup-error.ts';
import { explainDownloadFailure, provideTemporalCli } from './temporal-cli.ts';

/** The Slack workspace the stand-in plays: its team, its bot, and the person at the console. */
export const LOCAL_SLACK = {
  teamId: 'T0LOCAL',
  botUserId: 'U0LOCALBOT',
  userId: 'U0LOCALUSER',
  userName: 'you',
  token: 'xoxb-local-token',
} as const;

export interface Stack {
  /** The console's address with this start's token, to open in a browser. */
  consoleUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  /** The worker running in this process, as `composeWorker` made it. */
  worker: ComposedWorker;
  close(): Promise<void>;
}

export interface StackOptions {
  env: Environment;
  /** One line per part as it comes up: `status('Temporal', 'dev server …')`. */
  status(part: string, line: string): void;
}

/** What every part of the start reads, and the closers of the parts already up (closed in reverse). */
interface StackContext {
  settings: StackSettings;
  options: StackOptions;
  dataDir: string;
  /** The stack's JSON log (logs/stack.log). */
  log: (fields: Record<string, unknown>) => void;
  secrets: LocalSecrets;
  payloadKeys: PayloadKeySet;
  /** Registers how to stop a part just started. */
  onClose(closer: () => Promise<void>): void;
}

interface StackTemporal {
  connection: NativeConnection;
  client: Client;
  namespace: string;
  address: string;
  uiUrl?: string;
}

/** The Slack and SES stand-ins, the in-process queue, and the events the console listens to. */
interface StandIns {
  slack: SlackApiServer;
  email: EmailStandIn;
  queue: InProcessQueue;
  events: EventTarget;
}

/**
 * Everything of the system on one machine, in this process: Temporal (a dev server persisted
 * under DATA_DIR, or TEMPORAL_ADDRESS), the worker, the Slack edge's real app on a local
 * port, an in-process queue where SQS stands, the dispatcher's real batch handler, the Slack
 * Web API and SES stand-ins, Gemini or the offline model, and the console that shows it all.
 */
export async function startStack(settings: StackSettings, options: StackOptions): Promise<Stack> {
  const closers = createClosers();
  try {
    const dataDir = settings.stack.DATA_DIR;
    // Before anything writes there: secrets, keys and transcripts are the owner's alone.
    ensurePrivateDirectory(dataDir);
    const context: StackContext = {
      settings,
      options,
      dataDir,
      log: fileJsonLog(join(dataDir, 'logs', 'stack.log')),
      secrets: localSecrets(dataDir),
      // Every payload the stack's client and worker write is encrypted with the key file's newest key.
      payloadKeys: keysOrStartupError(() => localPayloadKeys(options.env, dataDir)),
      onClose: closers.add,
    };
    const temporal = settings.terminal.TEMPORAL_ADDRESS
      ? await connectToTemporal(context, settings.terminal.TEMPORAL_ADDRESS)
      : await startDevServer(context);
    const model = await startModel(context);
    const standIns = await startStandIns(context);
    const worker = await startWorker(context, temporal, model, standIns);
    const edgeUrl = await startSlackEdge(context, worker.registry, standIns);
    startDispatcher(context, temporal.client, standIns.queue);
    const consoleServer = await startConsole(context, { temporal, model, standIns, worker, edgeUrl });
    const { address: temporalAddress, uiUrl: temporalUiUrl } = temporal;
    writeJsonFile(join(dataDir, 'stack.json'), {
      pid: process.pid,
      consoleUrl: consoleServer.url,
      temporalAddress,
      ...(temporalUiUrl ? { temporalUiUrl } : {}),
      edgeUrl,
      slackApiUrl: standIns.slack.url,
      sesUrl: standIns.email.url,
    });
    return {
      consoleUrl: consoleServer.openUrl,
      temporalAddress,
      ...(temporalUiUrl ? { temporalUiUrl } : {}),
      worker,
      close: closers.close,
    };
  } catch (error) {
    await closers.close();
    throw error;
  }
}

/** TEMPORAL_ADDRESS, with the rest of the connection as the Temporal CLI reads it (@temporalio/envconfig). */
async function connectToTemporal(context: StackContext, address: string): Promise<StackTemporal> {
  const variables = Object.fromEntries(
    Object.entries(context.options.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const config = loadClientConnectConfig({ overrideEnvVars: variables });
  const namespace = config.namespace ?? 'default';
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ ...config.connectionOptions });
  } catch (error) {
    throw new StartupError(
      `Cannot reach Temporal at TEMPORAL_ADDRESS=${address} (${firstLine(error)}). Start that server, fix the address, or unset TEMPORAL_ADDRESS to run a local dev server.`,
    );
  }
  context.onClose(() => connection.close());
  const clientConnection = await Connection.connect(config.connectionOptions);
  context.onClose(() => clientConnection.close());
  const client = new Client({ connection: clientConnection, namespace, dataConverter: encryptedDataConverter(context.payloadKeys) });
  context.options.status('Temporal', `${address}, namespace ${namespace} (TEMPORAL_ADDRESS)`);
  return { connection, client, namespace, address };
}

/** A dev server whose database is kept in DATA_DIR; refused while another program runs one there. */
async function startDevServer(context: StackContext): Promise<StackTemporal> {
  const { settings, options, dataDir } = context;
  const other = liveDevServer(dataDir);
  if (other)
    throw new StartupError(
      `${other.owner} (pid ${other.ownerPid}) runs the dev server on ${dataDir}/temporal.db; quit it first (npm run chat can join npm start, not the other way round).`,
    );
  const executable = await provideTemporalCli({
    found: settings.temporalCli,
    path: options.env.PATH,
    announce: (line) => options.status('Temporal', line),
  });
  const devServer = await startPersistentDevServer({
    dataDir,
    owner: 'npm start',
    ui: settings.terminal.TEMPORAL_UI,
    ...(executable ? { executable } : {}),
  }).catch((error: unknown) => {
    throw executable
      ? new StartupError(
          `The Temporal dev server did not start (${firstLine(error)}). See ${dataDir}/logs/, or set TEMPORAL_CLI_PATH to another temporal binary.`,
        )
      : explainDownloadFailure(error);
  });
  context.onClose(() => devServer.stop());
  const namespace = 'default';
  const client = new Client({
    connection: devServer.client.connection,
    namespace,
    dataConverter: encryptedDataConverter(context.payloadKeys),
  });
  const uiUrl = devServer.uiUrl;
  options.status('Temporal', `dev server, kept in ${dataDir}/temporal.db${uiUrl ? ' (Web UI linked from the console)' : ''}`);
  return { connection: devServer.nativeConnection, client, namespace, address: devServer.address, ...(uiUrl ? { uiUrl } : {}) };
}

/** Gemini with GOOGLE_API_KEY, else the offline model (paused OFFLINE_MODEL_DELAY_MS before each answer). */
async function startModel(context: StackContext): Promise<LocalModel> {
  const { settings } = context;
  const baseUrl = settings.agents.GEMINI_BASE_URL;
  const model = await startLocalModel({
    apiKey: settings.terminal.GOOGLE_API_KEY,
    baseUrl,
    offlineDelayMs: settings.stack.OFFLINE_MODEL_DELAY_MS,
  });
  context.onClose(() => model.close());
  context.options.status(
    'Model',
    model.offline
      ? 'OFFLINE: a scripted Gemini-compatible model answers. Set GOOGLE_API_KEY to use Gemini.'
      : `Gemini${baseUrl ? ` at ${baseUrl}` : ''}`,
  );
  return model;
}

/** The Slack Web API and SES stand-ins, their messages kept across restarts, and the queue the email path feeds. */
async function startStandIns(context: StackContext): Promise<StandIns> {
  const events = new EventTarget();
  const slackFile = join(context.dataDir, 'slack.json');
  const slack = await startSlackApiServer({
    tokens: [LOCAL_SLACK.token],
    teamId: LOCAL_SLACK.teamId,
    botUserId: LOCAL_SLACK.botUserId,
    messages: readJsonFile<SlackStoredMessage[]>(slackFile, []),
    onChange: (message) => {
      writeJsonFile(slackFile, slack.allMessages());
      events.dispatchEvent(new CustomEvent('slack', { detail: message }));
    },
    // The app as slack/manifest.json makes it: an agent, with sessions and their stop button.
    appView: 'agent',
    onSessionChange: (session) => events.dispatchEvent(new CustomEvent('session', { detail: session })),
  });
  context.onClose(() => slack.close());
  const queue = createInProcessQueue({ file: join(context.dataDir, 'queue.json'), log: context.log });
  const email = await startMailStandIn(context, queue, events);
  context.options.status('Stand-ins', 'Slack Web API and SES (replies land there; messages kept in slack.json and mail.json)');
  return { slack, email, queue, events };
}

/** SES's stand-in: mail sent to an agent goes through the email edge's parsing onto the queue. */
async function startMailStandIn(context: StackContext, queue: InProcessQueue, events: EventTarget): Promise<EmailStandIn> {
  const mailFile = join(context.dataDir, 'mail.json');
  // The worker records each reply's thread next to the transcripts; the email path reads it there.
  const threads = createEmailThreadIndex(context.settings.transcripts);
  const config = {
    EMAIL_ALLOWED_SENDERS: ['@example.com', '@localhost'],
    EMAIL_REPLY_TOKEN_SECRET: context.secrets.emailReplyTokenSecret,
    EMAIL_DMARC_POLICY: 'reject-on-fail' as const,
    EMAIL_MAX_BODY_CHARS: 20_000,
    EMAIL_MAX_RAW_BYTES: 20 * 1024 * 1024,
    EMAIL_MAX_ATTACHMENT_BYTES: 10 * 1024 * 1024,
  };
  const email = await startEmailStandIn({
    messages: readJsonFile<MailMessage[]>(mailFile, []),
    onChange: (message) => {
      writeJsonFile(mailFile, email.messages());
      events.dispatchEvent(new CustomEvent('mail', { detail: message }));
    },
    // SES has checked SPF and DKIM for a real message; the console's sender is the person at the keyboard.
    deliver: async (raw, recipients) => {
      const from = /^From:[^\n]*?<?([^<>\s"]+@[^<>\s"]+)>?\s*$/im.exec(typeof raw === 'string' ? raw : new TextDecoder().decode(raw))?.[1];
      const result = await parseInboundEmail({
        raw,
        mail: { ...(from ? { source: from, commonHeaders: { from: [from] } } : {}) },
        receipt: { recipients, spfVerdict: { status: 'PASS' }, dkimVerdict: { status: 'PASS' }, dmarcVerdict: { status: 'PASS' } },
        config,
        threads,
      });
      if ('rejected' in result) {
        context.log({ msg: 'email rejected', reason: result.rejected });
        return { rejected: result.rejected };
      }
      await queue.send(result.accepted);
      return { queued: true };
    },
  });
  context.onClose(() => email.close());
  return email;
}

/**
 * The worker, as `composeWorker` makes it for the container too: replying to Slack and email
 * through the stand-ins (their URLs and the local secrets as its settings), and to terminal chats.
 */
async function startWorker(context: StackContext, temporal: StackTemporal, model: LocalModel, standIns: StandIns): Promise<ComposedWorker> {
  const { settings, secrets, options, dataDir, payloadKeys } = context;
  const worker = await composeWorker(
    {
      // The worker's agents mail from <agent>@<EMAIL_AGENT_DOMAIN>, the domain the Mail pane receives for.
      agents: { ...settings.agents, EMAIL_AGENT_DOMAIN: settings.agents.EMAIL_AGENT_DOMAIN ?? settings.stack.EMAIL_AGENT_DOMAIN },
      transcripts: settings.transcripts,
      slack: {
        SLACK_BOT_TOKEN: LOCAL_SLACK.token,
        SLACK_API_URL: standIns.slack.url,
        APPROVAL_TOKEN_SECRET: secrets.approvalTokenSecret,
        SLACK_STATUS_INTERVAL_MS: settings.slack.SLACK_STATUS_INTERVAL_MS,
      },
      email: {
        EMAIL_REPLY_TOKEN_SECRET: secrets.emailReplyTokenSecret,
        APPROVAL_TOKEN_SECRET: secrets.approvalTokenSecret,
        EMAIL_CONFIGURATION_SET: undefined,
      },
    },
    {
      connection: temporal.connection,
      namespace: temporal.namespace,
      // With the client, the assistant can make, list and stop schedules from chat (the console's Slack threads).
      client: temporal.client,
      payloadKeys,
      gemini: model.gemini,
      replyAdapters: { terminal: createTerminalReplies().adapter },
      ses: new SESv2Client({
        endpoint: standIns.email.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      }),
      log: (line) => options.status('Schedules', line.replace(/^Schedules /, '')),
    },
  );
  const running = worker.run();
  context.onClose(async () => {
    worker.shutdown();
    await running;
  });
  options.status(
    'Payloads',
    `encrypted (AES-256-GCM, key ${payloadKeys[0].id}${options.env.PAYLOAD_KEYS?.trim() ? ' of PAYLOAD_KEYS' : ` of ${payloadKeysFile(dataDir)}`})`,
  );
  options.status('Worker', `in this process, task queue ${settings.agents.TEMPORAL_TASK_QUEUE}; SDK log in ${dataDir}/logs/worker.log`);
  return worker;
}

/** The Slack edge: the Lambda's own app, on a local port, writing to the in-process queue. Returns its URL. */
async function startSlackEdge(context: StackContext, registry: AgentRegistry, standIns: StandIns): Promise<string> {
  const { secrets } = context;
  const config = {
    SLACK_SIGNING_SECRET: secrets.slackSigningSecret,
    APPROVAL_TOKEN_SECRET: secrets.approvalTokenSecret,
    INGRESS_QUEUE_URL: 'local://in-process/ingress.fifo',
    SLACK_BOT_USER_ID: LOCAL_SLACK.botUserId,
    SLACK_DEFAULT_AGENT: 'assistant',
    INGRESS_MAX_BODY_BYTES: 1024 * 1024,
    SLACK_TIMESTAMP_TOLERANCE_SECONDS: 300,
    INGRESS_QUEUE_TIMEOUT_MS: 2500,
    // The default agent's own prompts, set on each assistant thread the console opens.
    SLACK_SUGGESTED_PROMPTS: registry.get(registry.defaultAgent).suggestedPrompts,
  };
  const setSuggestedPrompts = createSuggestedPromptsSetter({ token: LOCAL_SLACK.token, apiUrl: standIns.slack.url });
  const edge = await serveOnNode(createSlackApp({ config, queue: standIns.queue, log: context.log, setSuggestedPrompts }), 0);
  context.onClose(() => new Promise((resolve) => edge.close(() => resolve())));
  context.options.status('Slack edge', `functions/slack's app, signing secret in ${context.dataDir}/local-secrets.json`);
  return `http://127.0.0.1:${(edge.address() as { port: number }).port}`;
}

/** The dispatcher: the Lambda's batch handler, fed by the in-process queue. */
function startDispatcher(context: StackContext, client: Client, queue: InProcessQueue): void {
  const { settings } = context;
  const temporal: TemporalClientProvider = { get: async () => client, connects: 1, close: async () => undefined };
  const dispatch = createDispatchBatchHandler({
    config: {
      APPROVAL_TOKEN_SECRET: context.secrets.approvalTokenSecret,
      TEMPORAL_TASK_QUEUE: settings.agents.TEMPORAL_TASK_QUEUE,
      TEMPORAL_SECRET_ARN: undefined,
      TEMPORAL_CONNECT_TIMEOUT_MS: 5000,
      DISPATCH_UPDATE_TIMEOUT_MS: 20_000,
      DISPATCH_DEFAULT_AGENT: 'assistant',
      DISPATCH_AGENTS: [],
      EMAIL_AGENT_DOMAIN: settings.stack.EMAIL_AGENT_DOMAIN,
    },
    temporal,
    log: context.log,
  });
  const stopQueue = new AbortController();
  const dispatching = queue.run(dispatch, stopQueue.signal);
  context.onClose(async () => {
    stopQueue.abort();
    await dispatching;
  });
  context.options.status(
    'Queue',
    `in-process FIFO feeding the dispatcher, ${queue.pending()} pending (kept in ${context.dataDir}/queue.json)`,
  );
}

/** The console that shows it all, and takes what a person types. */
async function startConsole(
  context: StackContext,
  parts: { temporal: StackTemporal; model: LocalModel; standIns: StandIns; worker: ComposedWorker; edgeUrl: string },
): Promise<ConsoleServer> {
  const { settings } = context;
  const { temporal, standIns } = parts;
  const consoleServer = await startConsoleServer({
    port: settings.stack.CONSOLE_PORT,
    host: settings.stack.CONSOLE_HOST,
    slack: standIns.slack,
    email: standIns.email,
    events: standIns.events,
    edgeUrl: parts.edgeUrl,
    signingSecret: context.secrets.slackSigningSecret,
    workspace: LOCAL_SLACK,
    agentDomain: settings.stack.EMAIL_AGENT_DOMAIN,
    client: temporal.client,
    namespace: temporal.namespace,
    taskQueue: settings.agents.TEMPORAL_TASK_QUEUE,
    // The Evals pane reads npm run eval's results (run from the project's folder) and its transcripts, in this stack's store.
    evals: { resultsDirectory: join(process.cwd(), RESULTS_DIRECTORY), store: createTranscriptStore(settings.transcripts) },
    deployment: settings.agents.AGENTS_DEPLOYMENT,
    agents: [...parts.worker.registry.agents.values()],
    ...(temporal.uiUrl ? { temporalUiUrl: temporal.uiUrl } : {}),
    offline: parts.model.offline,
    codec: createEncryptionCodec(context.payloadKeys),
  });
  context.onClose(() => consoleServer.close());
  if (temporal.uiUrl)
    context.options.status('Codec', `${consoleServer.codecEndpoint}: the Web UI's "Codec Server" setting, to read the encrypted payloads`);
  return consoleServer;
}

/** A key set that cannot be read (a bad PAYLOAD_KEYS, a damaged key file) stops the start with its one line. */
function keysOrStartupError(read: () => PayloadKeySet): PayloadKeySet {
  try {
    return read();
  } catch (error) {
    if (error instanceof PayloadKeyError) throw new StartupError(error.message);
    throw error;
  }
}

function firstLine(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  if (/connection refused/i.test(message)) return 'connection refused';
  if (/dns error|failed to lookup|name or service not known/i.test(message)) return 'unknown host';
  if (/timed? ?out|deadline/i.test(message)) return 'no answer in time';
  return message.split('\n')[0]!.slice(0, 200);
}
