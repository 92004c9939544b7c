import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { connectTo, temporalTargetFrom } from '../temporal-client/temporal-connection.ts';
import type { Environment } from '../config/load-settings.ts';
import { startGeminiServer } from '../local/gemini-server.ts';
import type { TerminalSettings } from '../config/local-settings.ts';
import { startDevServer } from '../local/temporal-dev-server.ts';
import { createJudge, type Judge } from './judge.ts';
import { evalOfflineModel } from './offline-model.ts';

export interface EvalTemporal {
  client: Client;
  connection: NativeConnection;
  namespace: string;
  description: string;
  close(): Promise<void>;
}

/**
 * Where evals run: `TEMPORAL_ADDRESS` (settings through @temporalio/envconfig), or a dev
 * server in memory, of its own, so an eval never shares `npm start`'s task queues or data.
 */
export async function openEvalTemporal(settings: TerminalSettings, env: Environment): Promise<EvalTemporal> {
  if (settings.terminal.TEMPORAL_ADDRESS) {
    const target = temporalTargetFrom(env);
    const connection = await connectTo(target, (options) => NativeConnection.connect(options));
    const clientConnection = await connectTo(target, (options) => Connection.connect(options)).catch(async (error: unknown) => {
      await connection.close();
      throw error;
    });
    return {
      client: new Client({ connection: clientConnection, namespace: target.namespace }),
      connection,
      namespace: target.namespace,
      description: `${settings.terminal.TEMPORAL_ADDRESS} (namespace ${target.namespace})`,
      close: async () => {
        await clientConnection.close();
        await connection.close();
      },
    };
  }
  const server = await startDevServer({ ...(settings.temporalCli ? { executable: settings.temporalCli } : {}) });
  return {
    client: server.env.client,
    connection: server.env.nativeConnection,
    namespace: server.env.namespace ?? 'default',
    description: `a dev server of its own at ${server.address}`,
    close: () => server.stop(),
  };
}

export interface EvalModel {
  gemini: { apiKey: string; baseUrl?: string };
  kind: 'offline' | 'gemini';
  judge?: Judge;
  description: string;
  close(): Promise<void>;
}

/** Gemini with `GOOGLE_API_KEY`, else the offline model; a judge with Gemini, or at `judgeUrl` (a Gemini-compatible server). */
export async function evalModel(settings: TerminalSettings, judgeUrl?: string): Promise<EvalModel> {
  const apiKey = settings.terminal.GOOGLE_API_KEY;
  const baseUrl = settings.agents.GEMINI_BASE_URL;
  const judge = judgeUrl
    ? createJudge({ apiKey: apiKey ?? 'offline', baseUrl: judgeUrl })
    : apiKey
      ? createJudge({ apiKey, ...(baseUrl ? { baseUrl } : {}) })
      : undefined;
  if (apiKey) {
    return {
      gemini: { apiKey, ...(baseUrl ? { baseUrl } : {}) },
      kind: 'gemini',
      ...(judge ? { judge } : {}),
      description: `Gemini${baseUrl ? ` at ${baseUrl}` : ''}`,
      close: async () => undefined,
    };
  }
  const server = await startGeminiServer({ respond: evalOfflineModel });
  return {
    gemini: { apiKey: 'offline', baseUrl: server.url },
    kind: 'offline',
    ...(judge ? { judge } : {}),
    description: 'OFFLINE, the scripted model (set GOOGLE_API_KEY to evaluate against Gemini)',
    close: () => server.close(),
  };
}
