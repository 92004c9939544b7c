import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** Anything with a Fetch-API handler, such as a Hono app. */
export interface FetchHandler {
  fetch(request: Request): Response | Promise<Response>;
}

/**
 * Serves a Fetch-API handler on `node:http`: the few lines `@hono/node-server` would add,
 * without the dependency. The body streams through, so size limits apply while reading.
 */
export function serveOnNode(app: FetchHandler, port: number, hostname = '127.0.0.1'): Promise<Server> {
  const server = createServer((request, response) => {
    forward(app, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: false, error: 'internal error' }));
      console.error(error);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => resolve(server));
  });
}

async function forward(app: FetchHandler, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const fetchRequest = new Request(url, {
    method: request.method ?? 'GET',
    headers,
    ...(hasBody ? { body: Readable.toWeb(request) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  });
  const fetchResponse = await app.fetch(fetchRequest);
  const responseHeaders: Record<string, string> = {};
  fetchResponse.headers.forEach((value, name) => {
    responseHeaders[name] = value;
  });
  response.writeHead(fetchResponse.status, responseHeaders);
  if (!fetchResponse.body) return void response.end();
  const reader = fetchResponse.body.getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) response.write(chunk.value);
  response.end();
}
