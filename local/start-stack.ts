import { join } from 'node:path';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { createEncryptionCodec, encryptedDataConverter, PayloadKeyError, type PayloadKeySet } from '../temporal-client/payload-encryption.ts';
import { syncSchedules } from '../temporal-client/schedules.ts';
import type { Environment } from '../config/load-settings.ts';
import { createDispatchBatchHandler } from '../functions/dispatch/dispatch-batch.ts';
import type { TemporalClientProvider } from '../functions/dispatch/temporal-client.ts';
import { parseInboundEmail } from '../functions/email/email.ts';
import { createSlackApp } from '../functions/slack/app.ts';
import { createSuggestedPromptsSetter } from '../functions/slack/slack-post.ts';
import { createWorkerFromSettings, registryFrom } from '../worker/from-settings.ts';
import { createEmailThreadIndex } from '../store/email-thread-index.ts';
import { emailReplyAdapterFrom, slackAnswerStreamsFrom, slackReplyAdapterFrom } from '../worker/replies/adapters.ts';
import { createTerminalReplies } from '../worker/replies/terminal.ts';
import { RESULTS_DIRECTORY } from '../eval/files.ts';
import { createTranscriptStore } from '../store/create-store.ts';
import { startConsoleServer } from './console-server.ts';
import { startEmailStandIn, type MailMessage } from './email-stand-in.ts';
import { fileJsonLog } from './file-logger.ts';
import { startGeminiServer } from './gemini-server.ts';
import { createInProcessQueue } from './in-process-queue.ts';
import { ensurePrivateDirectory, readJsonFile, writeJsonFile } from './json-file.ts';
import { localSecrets } from './local-secrets.ts';
import { serveOnNode } from './node-server.ts';
import { offlineModel } from './offline-model.ts';
import { localPayloadKeys, payloadKeysFile } from './payload-keys.ts';
import { liveDevServer, startPersistentDevServer } from './persistent-dev-server.ts';
import type { StackSettings } from '../config/local-settings.ts';
import { startSlackApiServer, type SlackStoredMessage } from './slack-api-server.ts';
import { StartupError } from './startup-error.ts';
import { explainDownloadFailure, provideTemporalCli } from './temporal-cli.ts';

/** The Slack workspace the stand-in plays: its team, its bot, and the person at the console. */
export const LOCAL_SLACK = { teamId: 'T0LOCAL', botUserId: 'U0LOCALBOT', userId: 'U0LOCALUSER', userName: 'you', token: 'xoxb-local-token' } as const;

export interface Stack {
  /** The console's address with this start's token, to open in a browser. */
  consoleUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  close(): Promise<void>;
}

export interface StackOptions {
  env: Environment;
  /** One line per part as it comes up: `status('Temporal', 'dev server …')`. */
  status(part: string, line: string): void;
}

/**
 * Everything of the system on one machine, in this process: Temporal (a dev server persisted
 * under DATA_DIR, or TEMPORAL_ADDRESS), the worker, the Slack edge's real app on a local
 * port, an in-process queue where SQS stands, the dispatcher's real batch handler, the Slack
 * Web API and SES stand-ins, Gemini or the offline model, and the console that shows it all.
 */
export async function startStack(settings: StackSettings, options: StackOptions): Promise<Stack> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const { stack } = settings;
    const dataDir = stack.DATA_DIR;
    // Before anything writes there: secrets, keys and transcripts are the owner's alone.
    ensurePrivateDirectory(dataDir);
    const log = fileJsonLog(join(dataDir, 'logs', 'stack.log'));
    const secrets = localSecrets(dataDir);
    // Every payload the stack's client and worker write is encrypted with the key file's newest key.
    const payloadKeys = keysOrStartupError(() => localPayloadKeys(options.env, dataDir));
    const dataConverter = encryptedDataConverter(payloadKeys);

    // Temporal.
    let connection: NativeConnection;
    let client: Client;
    let namespace = 'default';
    let temporalAddress: string;
    let temporalUiUrl: string | undefined;
    if (settings.terminal.TEMPORAL_ADDRESS) {
      temporalAddress = settings.terminal.TEMPORAL_ADDRESS;
      const variables = Object.fromEntries(Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
      const config = loadClientConnectConfig({ overrideEnvVars: variables });
      namespace = config.namespace ?? 'default';
      try {
        connection = await NativeConnection.connect({ ...config.connectionOptions });
      } catch (error) {
        throw new StartupError(`Cannot reach Temporal at TEMPORAL_ADDRESS=${temporalAddress} (${firstLine(error)}). Start that server, fix the address, or unset TEMPORAL_ADDRESS to run a local dev server.`);
      }
      closers.push(() => connection.close());
      const clientConnection = await Connection.connect(config.connectionOptions);
      closers.push(() => clientConnection.close());
      client = new Client({ connection: clientConnection, namespace, dataConverter });
      options.status('Temporal', `${temporalAddress}, namespace ${namespace} (TEMPORAL_ADDRESS)`);
    } else {
      const other = liveDevServer(dataDir);
      if (other) throw new StartupError(`${other.owner} (pid ${other.ownerPid}) runs the dev server on ${dataDir}/temporal.db; quit it first (npm run chat can join npm start, not the other way round).`);
      const executable = await provideTemporalCli({ found: settings.temporalCli, path: options.env.PATH, announce: (line) => options.status('Temporal', line) });
      const devServer = await startPersistentDevServer({ dataDir, owner: 'npm start', ui: settings.terminal.TEMPORAL_UI, ...(executable ? { executable } : {}) }).catch((error: unknown) => {
        throw executable ? new StartupError(`The Temporal dev server did not start (${firstLine(error)}). See ${dataDir}/logs/, or set TEMPORAL_CLI_PATH to another temporal binary.`) : explainDownloadFailure(error);
      });
      closers.push(() => devServer.stop());
      connection = devServer.nativeConnection;
      client = new Client({ connection: devServer.client.connection, namespace, dataConverter });
      temporalAddress = devServer.address;
      temporalUiUrl = devServer.uiUrl;
      options.status('Temporal', `dev server, kept in ${dataDir}/temporal.db${temporalUiUrl ? ' (Web UI linked from the console)' : ''}`);
    }

    // Model.
    let gemini: { apiKey: string; baseUrl?: string };
    if (settings.terminal.GOOGLE_API_KEY) {
      gemini = { apiKey: settings.terminal.GOOGLE_API_KEY, ...(settings.agents.GEMINI_BASE_URL ? { baseUrl: settings.agents.GEMINI_BASE_URL } : {}) };
      options.status('Model', `Gemini${settings.agents.GEMINI_BASE_URL ? ` at ${settings.agents.GEMINI_BASE_URL}` : ''}`);
    } else {
      const delayMs = stack.OFFLINE_MODEL_DELAY_MS;
      const model = await startGeminiServer({ respond: (request) => ({ ...offlineModel(request), ...(delayMs ? { delayMs } : {}) }) });
      closers.push(() => model.close());
      gemini = { apiKey: 'offline', baseUrl: model.url };
      options.status('Model', 'OFFLINE: a scripted Gemini-compatible model answers. Set GOOGLE_API_KEY to use Gemini.');
    }

    // The stand-ins, their messages kept across restarts.
    const events = new EventTarget();
    const slackFile = join(dataDir, 'slack.json');
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
    closers.push(() => slack.close());

    const queue = createInProcessQueue({ file: join(dataDir, 'queue.json'), log });
    const mailFile = join(dataDir, 'mail.json');
    // The worker records each reply's thread next to the transcripts; the email path reads it there.
    const emailThreads = createEmailThreadIndex(settings.transcripts);
    const emailEdge = {
      EMAIL_ALLOWED_SENDERS: ['@example.com', '@localhost'],
      EMAIL_REPLY_TOKEN_SECRET: secrets.emailReplyTokenSecret,
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
          config: emailEdge,
          threads: emailThreads,
        });
        if ('rejected' in result) {
          log({ msg: 'email rejected', reason: result.rejected });
          return { rejected: result.rejected };
        }
        await queue.send(result.accepted);
        return { queued: true };
      },
    });
    closers.push(() => email.close());
    options.status('Stand-ins', 'Slack Web API and SES (replies land there; messages kept in slack.json and mail.json)');

    // The worker, replying to Slack and email through the stand-ins, and to terminal chats.
    // With the client, the assistant can make, list and stop schedules from chat (the console's Slack threads).
    const registry = registryFrom(settings.agents, client);
    const slackReplies = slackReplyAdapterFrom(
      { SLACK_BOT_TOKEN: LOCAL_SLACK.token, SLACK_API_URL: slack.url, APPROVAL_TOKEN_SECRET: secrets.approvalTokenSecret, SLACK_STATUS_INTERVAL_MS: settings.slack.SLACK_STATUS_INTERVAL_MS },
      settings.transcripts,
    );
    const ses = new SESv2Client({ endpoint: email.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    const emailReplies = emailReplyAdapterFrom(
      { EMAIL_REPLY_TOKEN_SECRET: secrets.emailReplyTokenSecret, APPROVAL_TOKEN_SECRET: secrets.approvalTokenSecret, EMAIL_CONFIGURATION_SET: undefined },
      ses,
      settings.transcripts,
    );
    const worker = await createWorkerFromSettings({
      connection,
      namespace,
      payloadKeys,
      // The worker's agents mail from <agent>@<EMAIL_AGENT_DOMAIN>, the domain the Mail pane receives for.
      settings: { ...settings.agents, EMAIL_AGENT_DOMAIN: settings.agents.EMAIL_AGENT_DOMAIN ?? stack.EMAIL_AGENT_DOMAIN },
      registry,
      transcripts: settings.transcripts,
      gemini,
      replyAdapters: { terminal: createTerminalReplies().adapter, ...(slackReplies ? { slack: slackReplies } : {}), ...(emailReplies ? { email: emailReplies } : {}) },
      answerStreams: slackAnswerStreamsFrom(
        { SLACK_BOT_TOKEN: LOCAL_SLACK.token, SLACK_API_URL: slack.url, APPROVAL_TOKEN_SECRET: secrets.approvalTokenSecret, SLACK_STATUS_INTERVAL_MS: settings.slack.SLACK_STATUS_INTERVAL_MS },
        settings.transcripts,
      ),
    });
    const running = worker.run();
    closers.push(async () => {
      worker.shutdown();
      await running;
    });
    options.status('Payloads', `encrypted (AES-256-GCM, key ${payloadKeys[0].id}${options.env.PAYLOAD_KEYS?.trim() ? ' of PAYLOAD_KEYS' : ` of ${payloadKeysFile(dataDir)}`})`);
    options.status('Worker', `in this process, task queue ${settings.agents.TEMPORAL_TASK_QUEUE}; SDK log in ${dataDir}/logs/worker.log`);

    // The Slack edge: the Lambda's own app, on a local port, writing to the in-process queue.
    const edgeConfig = {
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
    const slackApi = { token: LOCAL_SLACK.token, apiUrl: slack.url };
    const edge = await serveOnNode(createSlackApp({ config: edgeConfig, queue, log, setSuggestedPrompts: createSuggestedPromptsSetter(slackApi) }), 0);
    closers.push(() => new Promise((resolve) => edge.close(() => resolve())));
    const edgeAddress = edge.address() as { port: number };
    const edgeUrl = `http://127.0.0.1:${edgeAddress.port}`;
    options.status('Slack edge', `functions/slack's app, signing secret in ${dataDir}/local-secrets.json`);

    // The dispatcher: the Lambda's batch handler, fed by the in-process queue.
    const temporal: TemporalClientProvider = { get: async () => client, connects: 1, close: async () => undefined };
    const dispatch = createDispatchBatchHandler({
      config: {
        APPROVAL_TOKEN_SECRET: secrets.approvalTokenSecret,
        TEMPORAL_TASK_QUEUE: settings.agents.TEMPORAL_TASK_QUEUE,
        TEMPORAL_SECRET_ARN: undefined,
        TEMPORAL_CONNECT_TIMEOUT_MS: 5000,
        DISPATCH_UPDATE_TIMEOUT_MS: 20_000,
        DISPATCH_DEFAULT_AGENT: 'assistant',
        DISPATCH_AGENTS: [],
        EMAIL_AGENT_DOMAIN: stack.EMAIL_AGENT_DOMAIN,
      },
      temporal,
      log,
    });
    const stopQueue = new AbortController();
    const dispatching = queue.run(dispatch, stopQueue.signal);
    closers.push(async () => {
      stopQueue.abort();
      await dispatching;
    });
    options.status('Queue', `in-process FIFO feeding the dispatcher, ${queue.pending()} pending (kept in ${dataDir}/queue.json)`);

    // Ambient agents: their schedules match their triggers.
    const summary = await syncSchedules({ client, taskQueue: settings.agents.TEMPORAL_TASK_QUEUE, deployment: settings.agents.AGENTS_DEPLOYMENT, agents: registry.agents.values() });
    const scheduleCount = summary.created.length + summary.updated.length + summary.unchanged.length;
    options.status('Schedules', scheduleCount === 0 ? 'no agent has a trigger' : `${scheduleCount} ambient schedule(s) in sync`);

    const consoleServer = await startConsoleServer({
      port: stack.CONSOLE_PORT,
      host: stack.CONSOLE_HOST,
      slack,
      email,
      events,
      edgeUrl,
      signingSecret: secrets.slackSigningSecret,
      workspace: LOCAL_SLACK,
      agentDomain: stack.EMAIL_AGENT_DOMAIN,
      client,
      namespace,
      taskQueue: settings.agents.TEMPORAL_TASK_QUEUE,
      // The Evals pane reads npm run eval's results (run from the project's folder) and its transcripts, in this stack's store.
      evals: { resultsDirectory: join(process.cwd(), RESULTS_DIRECTORY), store: createTranscriptStore(settings.transcripts) },
      deployment: settings.agents.AGENTS_DEPLOYMENT,
      agents: [...registry.agents.values()],
      ...(temporalUiUrl ? { temporalUiUrl } : {}),
      offline: !settings.terminal.GOOGLE_API_KEY,
      codec: createEncryptionCodec(payloadKeys),
    });
    closers.push(() => consoleServer.close());
    if (temporalUiUrl) options.status('Codec', `${consoleServer.codecEndpoint}: the Web UI's "Codec Server" setting, to read the encrypted payloads`);
    writeJsonFile(join(dataDir, 'stack.json'), { pid: process.pid, consoleUrl: consoleServer.url, temporalAddress, ...(temporalUiUrl ? { temporalUiUrl } : {}), edgeUrl, slackApiUrl: slack.url, sesUrl: email.url });

    return { consoleUrl: consoleServer.openUrl, temporalAddress, ...(temporalUiUrl ? { temporalUiUrl } : {}), close };
  } catch (error) {
    await close();
    throw error;
  }
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
