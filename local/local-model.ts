import { startGeminiServer } from './gemini-server.ts';
import { offlineModel } from './offline-model.ts';

/** The model a local program's worker calls: Gemini with a key, else the offline model on a local port. */
export interface LocalModel {
  /** What the worker is given (`composeWorker`'s `gemini`). */
  gemini: { apiKey: string; baseUrl?: string };
  /** True when the scripted offline model answers. */
  offline: boolean;
  /** Stops the offline model's server; nothing for Gemini. */
  close(): Promise<void>;
}

export interface LocalModelOptions {
  /** `GOOGLE_API_KEY`. @default unset: the offline model */
  apiKey?: string | undefined;
  /** `GEMINI_BASE_URL`: a Gemini-compatible server other than Google's. @default Google's */
  baseUrl?: string | undefined;
  /** Pause of the offline model before each answer (`OFFLINE_MODEL_DELAY_MS`). @default 0 */
  offlineDelayMs?: number;
}

/** Gemini when a key is set; otherwise a scripted Gemini-compatible server speaking the real API. */
export async function startLocalModel(options: LocalModelOptions): Promise<LocalModel> {
  if (options.apiKey) {
    return {
      gemini: { apiKey: options.apiKey, ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}) },
      offline: false,
      close: async () => undefined,
    };
  }
  const delayMs = options.offlineDelayMs ?? 0;
  const server = await startGeminiServer({ respond: delayMs ? (request) => ({ ...offlineModel(request), delayMs }) : offlineModel });
  return { gemini: { apiKey: 'offline', baseUrl: server.url }, offline: true, close: () => server.close() };
}
