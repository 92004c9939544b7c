import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Content } from '../core/spec.ts';
import { modelInfo } from '../core/models.ts';
import { refusalOf, withSignatures } from './gemini-rules.ts';

/** The parts of a `generateContent` request body this server reads. */
export interface GenerateContentBody {
  contents: Content[];
  systemInstruction?: { parts?: { text?: string }[] };
  tools?: { functionDeclarations?: { name: string; description?: string; parametersJsonSchema?: unknown; parameters?: unknown }[] }[];
  toolConfig?: { functionCallingConfig?: { mode?: string } };
  generationConfig?: { thinkingConfig?: { thinkingBudget?: unknown; thinkingLevel?: unknown } } & Record<string, unknown>;
}

export interface GeminiRequest {
  model: string;
  body: GenerateContentBody;
  /** The body as it arrived, byte for byte. */
  raw: string;
  /** 0-based, over the server's lifetime. */
  index: number;
  /** Set when the server refused the request itself (Gemini 3's rules) without asking the responder. */
  refused?: { status: number; message: string };
}

/** Token counts a reply may set; the rest are estimated (about four characters a token). */
export interface ReplyUsage {
  promptTokens: number;
  outputTokens: number;
  /** Thinking tokens (`thoughtsTokenCount`), on top of the output. @default 0 */
  thoughtsTokens?: number;
  /** Input tokens served from the cache (`cachedContentTokenCount`). @default what the implicit cache would hit */
  cachedTokens?: number;
}

export type GeminiReply =
  | { content: Content; usage?: ReplyUsage; finishReason?: string; delayMs?: number; stream?: StreamPacing }
  | { status: number; message: string; headers?: Record<string, string>; delayMs?: number };

/** How a `streamGenerateContent` answer is sent: text cut into chunks, one every `delayMs`. */
export interface StreamPacing {
  /** @default 40 */
  chunkChars?: number;
  /** @default 0 */
  delayMs?: number;
  /** Sends this many chunks, then nothing more (a model that stalls, a connection that hangs). @default all */
  hangAfterChunks?: number;
}

export type GeminiResponder = (request: GeminiRequest) => GeminiReply | Promise<GeminiReply>;

export interface GeminiServer {
  /** Base URL to give `@google/genai` as `httpOptions.baseUrl`. */
  url: string;
  /** Every request received, in order (including ones answered with an error). */
  requests: GeminiRequest[];
  /** Requests whose client hung up before the answer was sent (cancellation reached the HTTP call). */
  readonly abortedCount: number;
  close(): Promise<void>;
}

export interface GeminiServerOptions {
  respond: GeminiResponder;
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** When set, requests must carry it as `x-goog-api-key`. */
  apiKey?: string;
  /**
   * Fewest tokens a shared prefix needs before the implicit cache reports a hit, as Gemini's
   * implicit caching does (1,024 on Flash models). @default 1024
   */
  implicitCacheMinTokens?: number;
}

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const ROUTE = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/**
 * A local server that speaks the Gemini REST API's `generateContent`, answering from a
 * responder function: the offline model of `npm start`, and the scripted model of tests.
 */
export async function startGeminiServer(options: GeminiServerOptions): Promise<GeminiServer> {
  const requests: GeminiRequest[] = [];
  let abortedCount = 0;
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      sendError(response, 500, `scripted model failed: ${(error as Error).message}`);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const match = ROUTE.exec(path);
    if (request.method !== 'POST' || !match) return sendError(response, 404, `No route for ${request.method} ${path}.`);
    if (options.apiKey && request.headers['x-goog-api-key'] !== options.apiKey) {
      return sendError(response, 403, 'API key not valid.');
    }
    const raw = await readBody(request);
    if (raw === undefined) return sendError(response, 413, 'Request body too large.');
    let body: GenerateContentBody;
    try {
      body = JSON.parse(raw) as GenerateContentBody;
    } catch {
      return sendError(response, 400, 'Invalid JSON payload received.');
    }
    if (!Array.isArray(body.contents) || body.contents.length === 0) {
      return sendError(response, 400, '* GenerateContentRequest.contents: contents is not specified');
    }
    const entry: GeminiRequest = { model: decodeURIComponent(match[1]!), body, raw, index: requests.length };
    requests.push(entry);
    response.once('close', () => {
      if (!response.writableFinished) abortedCount += 1;
    });
    const refused = refusalOf(entry.model, body);
    if (refused) {
      entry.refused = refused;
      return sendError(response, refused.status, refused.message);
    }
    const reply = await options.respond(entry);
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (response.destroyed) return;
    if ('status' in reply) return sendError(response, reply.status, reply.message, reply.headers);
    const content = withSignatures(entry.model, reply.content, entry.index);
    const promptTokens = reply.usage?.promptTokens ?? estimateTokens(body.contents);
    const cachedTokens = Math.min(promptTokens, reply.usage?.cachedTokens ?? cache.hit(entry));
    const outputTokens = reply.usage?.outputTokens ?? estimateTokens([content]);
    const thoughtsTokens = reply.usage?.thoughtsTokens ?? 0;
    const usageMetadata = {
      promptTokenCount: promptTokens,
      candidatesTokenCount: outputTokens,
      ...(thoughtsTokens ? { thoughtsTokenCount: thoughtsTokens } : {}),
      ...(cachedTokens ? { cachedContentTokenCount: cachedTokens } : {}),
      totalTokenCount: promptTokens + outputTokens + thoughtsTokens,
    };
    if (match[2] === 'streamGenerateContent') return streamReply(response, { ...reply, content }, usageMetadata, entry);
    send(response, 200, {
      candidates: [{ content, finishReason: reply.finishReason ?? 'STOP', index: 0 }],
      usageMetadata,
      modelVersion: entry.model,
      responseId: `scripted-${entry.index}`,
    });
  }
  const cache = implicitCache(options.implicitCacheMinTokens ?? 1024);

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    requests,
    get abortedCount() {
      return abortedCount;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Gemini's implicit cache, as its usage reports it: the longest byte-identical prefix this
 * request shares with an earlier one (system instruction, tools, then the turns in order), in
 * tokens, once it reaches the model's minimum. A prefix that changes from call to call never hits.
 */
function implicitCache(minTokens: number) {
  const seen: string[] = [];
  return {
    hit(request: GeminiRequest): number {
      const { systemInstruction, tools, contents } = request.body;
      // The model's id first: each model has its own cache.
      const prefix = [
        request.model,
        JSON.stringify(systemInstruction ?? null),
        JSON.stringify(tools ?? null),
        ...contents.map((content) => JSON.stringify(content)),
      ].join('\n');
      let longest = 0;
      for (const earlier of seen) longest = Math.max(longest, commonPrefixLength(earlier, prefix));
      seen.push(prefix);
      if (seen.length > 16) seen.shift();
      const tokens = Math.floor(Math.max(0, longest - request.model.length) / 4);
      return tokens >= minTokens ? tokens : 0;
    },
  };
}

/** How many leading characters two strings share: whole blocks first, then character by character. */
function commonPrefixLength(a: string, b: string): number {
  const end = Math.min(a.length, b.length);
  const block = 4096;
  let at = 0;
  while (at + block <= end && a.slice(at, at + block) === b.slice(at, at + block)) at += block;
  while (at < end && a.charCodeAt(at) === b.charCodeAt(at)) at += 1;
  return at;
}

/**
 * Server-sent events as `alt=sse` answers them: text in chunks, each call (with its signature)
 * in a chunk of its own, usage on every chunk (the prompt's count from the first, the whole
 * count with the last), the finish reason with the last.
 */
async function streamReply(
  response: ServerResponse,
  reply: Extract<GeminiReply, { content: Content }>,
  usageMetadata: Record<string, number>,
  entry: GeminiRequest,
): Promise<void> {
  const pacing = reply.stream ?? {};
  const size = pacing.chunkChars ?? 40;
  const chunks: Content['parts'][] = [];
  for (const part of reply.content.parts) {
    if (part.text === undefined || part.functionCall) {
      chunks.push([part]);
      continue;
    }
    for (let at = 0; at < part.text.length; at += size) chunks.push([{ ...part, text: part.text.slice(at, at + size) }]);
    if (part.text === '') chunks.push([part]);
  }
  if (chunks.length === 0) chunks.push([]);
  // Gemini 3 signs a text answer too: the signature comes last, on a part of empty text.
  const textOnly =
    reply.content.parts.length > 0 &&
    reply.content.parts.every((part) => part.text !== undefined && !part.functionCall && !part.thoughtSignature);
  if (textOnly && modelInfo(entry.model)?.thinking !== 'budget')
    chunks.push([{ text: '', thoughtSignature: Buffer.from(`stand-in-signature:${entry.index}:text`).toString('base64') }]);
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const [index, parts] of chunks.entries()) {
    if (pacing.hangAfterChunks !== undefined && index >= pacing.hangAfterChunks) return;
    if (index > 0 && pacing.delayMs) await new Promise((resolve) => setTimeout(resolve, pacing.delayMs));
    if (response.destroyed) return;
    const lastChunk = index === chunks.length - 1;
    const event = {
      candidates: [{ content: { role: 'model', parts }, index: 0, ...(lastChunk ? { finishReason: reply.finishReason ?? 'STOP' } : {}) }],
      usageMetadata: lastChunk
        ? usageMetadata
        : { promptTokenCount: usageMetadata.promptTokenCount, totalTokenCount: usageMetadata.promptTokenCount },
      modelVersion: entry.model,
      responseId: `scripted-${entry.index}`,
    };
    response.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
  }
  response.end();
}

function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  response.end(JSON.stringify(body));
}

function sendError(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
  send(response, status, { error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN' } }, headers);
}

/** About four characters a token: good enough for budgets in offline runs and tests. */
export function estimateTokens(contents: Content[]): number {
  return Math.max(1, Math.ceil(JSON.stringify(contents).length / 4));
}
