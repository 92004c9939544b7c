import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { AgentRegistry } from '../agents/index.ts';
import { encryptedDataConverter, type PayloadKeySet } from '../temporal-client/payload-encryption.ts';
import { connectTo, temporalTargetFrom } from '../temporal-client/temporal-connection.ts';
import { composeWorker, registryFrom, type ComposedWorker } from '../worker/compose.ts';
import { createTerminalReplies, type TerminalReplies } from '../worker/replies/terminal.ts';
import { createClosers } from './closers.ts';
import { startLocalModel } from './local-model.ts';
import { liveDevServer, startPersistentDevServer } from './persistent-dev-server.ts';
import type { TerminalSettings } from '../config/local-settings.ts';
import { startDevServer } from './temporal-dev-server.ts';

/** What a terminal program needs: Temporal, the agents, its replies; and how to close them. */
export interface Runtime {
  client: Client;
  taskQueue: string;
  registry: AgentRegistry;
  /** Replies to terminal conversations, when this process runs the worker. */
  terminal?: TerminalReplies;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** The entry's environment, for `@temporalio/envconfig` when TEMPORAL_ADDRESS is set. */
  env: Readonly<Record<string, string | undefined>>;
  /** Receives one line per notable start-up fact. */
  announce(line: string): void;
  /**
   * Keep the dev server's data in this directory, and join the dev server `npm start` runs
   * there (its worker then answers). @default none: a dev server in memory
   */
  dataDir?: string;
  /** Who starts the dev server, for the record in `dataDir`. @default 'a local program' */
  owner?: string;
  /** The keys payloads are sealed and opened with (`localPayloadKeys`): the same as every other program on this Temporal. */
  payloadKeys: PayloadKeySet;
}

/**
 * The local programs' embedded defaults: connects to `TEMPORAL_ADDRESS` (settings through
 * @temporalio/envconfig) or starts a dev server; uses Gemini with `GOOGLE_API_KEY` or the
 * offline model; runs a worker in this process (`EMBEDDED_WORKER`) with terminal replies.
 * The container's entry (worker/main.ts) does none of this.
 */
export async function startRuntime(settings: TerminalSettings, options: RuntimeOptions): Promise<Runtime> {
  const closers = createClosers();
  try {
    let connection: NativeConnection;
    let client: Client;
    let namespace: string;
    let embeddedWorker = settings.terminal.EMBEDDED_WORKER;
    const address = settings.terminal.TEMPORAL_ADDRESS;
    if (address) {
      // A refused certificate or an unreachable address throws a TemporalConnectionError: one line naming the setting.
      const target = temporalTargetFrom(options.env);
      namespace = target.namespace;
      connection = await connectTo(target, (connectionOptions) => NativeConnection.connect(connectionOptions));
      closers.add(() => connection.close());
      const clientConnection = await connectTo(target, (connectionOptions) => Connection.connect(connectionOptions));
      closers.add(() => clientConnection.close());
      client = new Client({ connection: clientConnection, namespace });
      options.announce(`Temporal: ${address} (namespace ${namespace})`);
    } else if (options.dataDir && liveDevServer(options.dataDir)) {
      const shared = liveDevServer(options.dataDir)!;
      connection = await NativeConnection.connect({ address: shared.address });
      closers.add(() => connection.close());
      const clientConnection = await Connection.connect({ address: shared.address });
      closers.add(() => clientConnection.close());
      namespace = 'default';
      client = new Client({ connection: clientConnection, namespace });
      // The stack's worker answers; a second one here would share its task queue without its replies.
      embeddedWorker = false;
      options.announce(
        `Temporal: the dev server of ${shared.owner} (pid ${shared.ownerPid})${shared.uiUrl ? `, Web UI ${shared.uiUrl}` : ''}; its worker answers`,
      );
    } else if (options.dataDir) {
      const devServer = await startPersistentDevServer({
        dataDir: options.dataDir,
        owner: options.owner ?? 'a local program',
        ui: settings.terminal.TEMPORAL_UI,
        ...(settings.temporalCli ? { executable: settings.temporalCli } : {}),
      });
      closers.add(() => devServer.stop());
      connection = devServer.nativeConnection;
      client = devServer.client;
      namespace = 'default';
      options.announce(
        `Temporal: local dev server, kept in ${options.dataDir}/temporal.db${devServer.uiUrl ? `, Web UI ${devServer.uiUrl}` : ''}`,
      );
    } else {
      const devServer = await startDevServer({
        ui: settings.terminal.TEMPORAL_UI,
        ...(settings.temporalCli ? { executable: settings.temporalCli } : {}),
      });
      closers.add(() => devServer.stop());
      connection = devServer.env.nativeConnection;
      client = devServer.env.client;
      namespace = devServer.env.namespace ?? 'default';
      options.announce(`Temporal: local dev server at ${devServer.address}${devServer.uiUrl ? `, Web UI ${devServer.uiUrl}` : ''}`);
    }

    // Every payload this program writes is sealed, and every one it reads opened, with the shared keys.
    const dataConverter = encryptedDataConverter(options.payloadKeys);
    client = new Client({ connection: client.connection, namespace, dataConverter });
    let terminal: TerminalReplies | undefined;
    let worker: ComposedWorker | undefined;
    if (embeddedWorker) {
      const model = await startLocalModel({ apiKey: settings.terminal.GOOGLE_API_KEY, baseUrl: settings.agents.GEMINI_BASE_URL });
      closers.add(() => model.close());
      options.announce(
        model.offline
          ? `Model: OFFLINE. No GOOGLE_API_KEY is set, so a scripted Gemini-compatible model at ${model.gemini.baseUrl} answers. Set GOOGLE_API_KEY to use Gemini.`
          : `Model: Gemini${model.gemini.baseUrl ? ` at ${model.gemini.baseUrl}` : ''}`,
      );
      terminal = createTerminalReplies();
      worker = await composeWorker(settings, {
        connection,
        namespace,
        client,
        payloadKeys: options.payloadKeys,
        gemini: model.gemini,
        replyAdapters: { terminal: terminal.adapter },
        log: options.announce,
      });
      options.announce(`Replies: ${worker.replyChannels.join(', ')}`);
      const running = worker.run();
      const stopping = worker;
      closers.add(async () => {
        stopping.shutdown();
        await running;
      });
    }
    // Without a worker here, the registry still names the agents (and their schedule tools).
    const registry = worker?.registry ?? registryFrom(settings.agents, client);

    return { client, taskQueue: settings.agents.TEMPORAL_TASK_QUEUE, registry, ...(terminal ? { terminal } : {}), close: closers.close };
  } catch (error) {
    await closers.close();
    throw error;
  }
}
