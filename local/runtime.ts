import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { createAgentRegistry, type AgentRegistry } from '../agents/index.ts';
import type { Settings } from '../core/config.ts';
import type { Duration } from '../core/spec.ts';
import type { ModelActivityDeps } from '../worker/activities/model.ts';
import { createAgentWorker, type AgentWorker } from '../worker/create-worker.ts';
import { createConversationIndex } from '../worker/conversation-index.ts';
import { createAmbientMemoryStoreFromEnv } from '../worker/ambient-memory.ts';
import { emailReplyAdapterFromEnv } from '../worker/replies/email-settings.ts';
import type { ReplyAdapters } from '../worker/replies/reply-channel.ts';
import { slackReplyAdapterFromEnv } from '../worker/replies/slack-settings.ts';
import { createTerminalReplies, type TerminalReplies } from '../worker/replies/terminal.ts';
import { createTranscriptStore } from '../store/create-store.ts';
import { startGeminiServer, type GeminiServer } from './gemini-server.ts';
import { offlineModel } from './offline-model.ts';
import { startDevServer, type DevServer } from './temporal-dev-server.ts';

/** Everything a local process needs: Temporal, a model, the agents; and how to close them. */
export interface Runtime {
  client: Client;
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  registry: AgentRegistry;
  model: ModelActivityDeps;
  offline: boolean;
  devServer?: DevServer;
  worker?: AgentWorker;
  /** Replies to terminal conversations, when this process runs the worker. */
  terminal?: TerminalReplies;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Run a worker in this process. */
  worker: boolean;
  /** Receives one line per notable start-up fact. */
  announce(line: string): void;
}

/**
 * Connects to `TEMPORAL_ADDRESS` (settings through @temporalio/envconfig), or starts a
 * dev server; uses Gemini with `GOOGLE_API_KEY`, or the offline model.
 */
export async function startRuntime(settings: Settings, options: RuntimeOptions): Promise<Runtime> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    let connection: NativeConnection;
    let client: Client;
    let namespace = settings.TEMPORAL_NAMESPACE;
    let devServer: DevServer | undefined;
    if (settings.TEMPORAL_ADDRESS) {
      const config = loadClientConnectConfig();
      namespace = config.namespace ?? namespace;
      connection = await NativeConnection.connect(config.connectionOptions);
      closers.push(() => connection.close());
      const clientConnection = await Connection.connect(config.connectionOptions);
      closers.push(() => clientConnection.close());
      client = new Client({ connection: clientConnection, namespace });
      options.announce(`Temporal: ${settings.TEMPORAL_ADDRESS} (namespace ${namespace})`);
    } else {
      devServer = await startDevServer({ ui: settings.TEMPORAL_UI });
      closers.push(() => devServer!.stop());
      connection = devServer.env.nativeConnection;
      client = devServer.env.client;
      namespace = devServer.env.namespace ?? 'default';
      options.announce(`Temporal: local dev server at ${devServer.address}${devServer.uiUrl ? `, Web UI ${devServer.uiUrl}` : ''}`);
    }

    const store = createTranscriptStore(process.env);
    let model: ModelActivityDeps;
    let offline = false;
    if (settings.GOOGLE_API_KEY) {
      model = { apiKey: settings.GOOGLE_API_KEY, store, ...(settings.GEMINI_BASE_URL ? { baseUrl: settings.GEMINI_BASE_URL } : {}) };
      options.announce(`Model: Gemini${settings.GEMINI_BASE_URL ? ` at ${settings.GEMINI_BASE_URL}` : ''}`);
    } else {
      const server: GeminiServer = await startGeminiServer({ respond: offlineModel });
      closers.push(() => server.close());
      model = { apiKey: 'offline', baseUrl: server.url, store };
      offline = true;
      options.announce(`Model: OFFLINE. No GOOGLE_API_KEY is set, so a scripted Gemini-compatible model at ${server.url} answers. Set GOOGLE_API_KEY to use Gemini.`);
    }

    const registry = createAgentRegistry({
      ...(settings.DOCS_DIR ? { docsDirectory: settings.DOCS_DIR } : {}),
      ...(settings.NWS_BASE_URL ? { weatherBaseUrl: settings.NWS_BASE_URL } : {}),
      ...(settings.IP_API_BASE_URL ? { ipLocationBaseUrl: settings.IP_API_BASE_URL } : {}),
      ...(settings.GEMINI_MODEL ? { model: settings.GEMINI_MODEL } : {}),
    });

    let worker: AgentWorker | undefined;
    let terminal: TerminalReplies | undefined;
    if (options.worker) {
      terminal = createTerminalReplies();
      const slack = slackReplyAdapterFromEnv();
      const email = emailReplyAdapterFromEnv();
      const replyAdapters: ReplyAdapters = { terminal: terminal.adapter, ...(slack ? { slack } : {}), ...(email ? { email } : {}) };
      options.announce(`Replies: ${['none', ...Object.keys(replyAdapters)].join(', ')}`);
      worker = await createAgentWorker({
        connection,
        namespace,
        taskQueue: settings.TEMPORAL_TASK_QUEUE,
        tools: registry.tools,
        agents: registry.agents.values(),
        replyAdapters,
        conversationIndex: createConversationIndex(process.env),
        ambientMemory: createAmbientMemoryStoreFromEnv(process.env),
        ...(settings.EMAIL_AGENT_DOMAIN ? { agentEmailDomain: settings.EMAIL_AGENT_DOMAIN } : {}),
        // Both are checked against the duration format by the settings schema.
        conversationDefaults: { idleTimeout: settings.CONVERSATION_IDLE_TIMEOUT as Duration, approvalTimeout: settings.APPROVAL_TIMEOUT as Duration },
        model,
        ...(settings.MODEL_CALLS_PER_SECOND ? { modelCallsPerSecond: settings.MODEL_CALLS_PER_SECOND } : {}),
      });
      const running = worker.run();
      closers.push(async () => {
        worker!.shutdown();
        await running;
      });
    }

    return { client, connection, namespace, taskQueue: settings.TEMPORAL_TASK_QUEUE, registry, model, offline, devServer, worker, terminal, close };
  } catch (error) {
    await close();
    throw error;
  }
}
