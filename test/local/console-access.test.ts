import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { createEncryptionCodec, newPayloadKeyJson, parsePayloadKeys } from '../../temporal-client/payload-encryption.ts';
import { startConsoleServer, type ConsoleServer } from '../../local/console-server.ts';
import { startEmailStandIn, type EmailStandIn } from '../../local/email-stand-in.ts';
import { localSecrets } from '../../local/local-secrets.ts';
import { serveOnNode } from '../../local/node-server.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { consoleFetch } from '../../testkit/stack-process.ts';

const WEB_UI = 'http://127.0.0.1:8233';
const KEYS = parsePayloadKeys(JSON.stringify({ keys: [newPayloadKeyJson('k1')] }), 'test keys');
const WORKSPACE = { teamId: 'T0LOCAL', botUserId: 'U0LOCALBOT', userId: 'U0LOCALUSER', userName: 'you' };

let slack: SlackApiServer;
let email: EmailStandIn;
let consoleServer: ConsoleServer;
let edge: Awaited<ReturnType<typeof serveOnNode>>;
/** What reached the Slack edge: a console that let a request through signs it and posts it here. */
const edgeRequests: string[] = [];

beforeAll(async () => {
  slack = await startSlackApiServer();
  email = await startEmailStandIn({ deliver: async () => ({ queued: true }) });
  const edgeApp = new Hono().post('/slack/events', async (c) => {
    edgeRequests.push(await c.req.text());
    return c.json({ ok: true });
  });
  edge = await serveOnNode(edgeApp, 0);
  consoleServer = await startConsoleServer({
    port: 0,
    host: '127.0.0.1',
    slack,
    email,
    events: new EventTarget(),
    edgeUrl: `http://127.0.0.1:${(edge.address() as { port: number }).port}`,
    signingSecret: 'secret',
    workspace: WORKSPACE,
    agentDomain: 'agents.local',
    // Never reached by these requests: a lazy connection connects on first use.
    client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
    namespace: 'default',
    taskQueue: 'agents',
    agents: [],
    offline: true,
    temporalUiUrl: WEB_UI,
    codec: createEncryptionCodec(KEYS),
  });
});

afterAll(async () => {
  await consoleServer?.close();
  await slack?.close();
  await email?.close();
  edge?.close();
});

/** A raw request, so the Host header is whatever the test says (fetch would set its own). */
function rawRequest(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const { port } = new URL(consoleServer.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

const hostHeader = () => new URL(consoleServer.url).host;
const post = { channel: 'C0GENERAL', text: 'Delete every schedule I own' };

describe('the local console refuses who may not use it', () => {
  it('answers the page that holds its token, and posts its messages to the edge signed', async () => {
    expect(consoleServer.openUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const state = await consoleFetch(consoleServer, '/api/state');
    expect(state.status).toBe(200);
    const posted = await consoleFetch(consoleServer, '/api/slack/messages', { channel: 'C0GENERAL', text: 'hello' });
    expect(posted.status).toBe(200);
    expect(edgeRequests.filter((body) => body.includes('hello'))).toHaveLength(1);
  });

  it('refuses a cross-site POST, as a page the developer opens would send it', async () => {
    // A "simple" request: text/plain needs no preflight, so a browser sends it from any page.
    const response = await rawRequest('/api/slack/messages', {
      method: 'POST',
      headers: {
        host: hostHeader(),
        origin: 'https://attacker.example',
        'sec-fetch-site': 'cross-site',
        'content-type': 'text/plain',
        'x-console-token': consoleServer.token,
      },
      body: JSON.stringify(post),
    });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body).error).toMatch(/cross-site request from origin https:\/\/attacker\.example refused/);
    expect(edgeRequests.some((body) => body.includes(post.text))).toBe(false);
    expect(slack.allMessages().some((message) => message.text === post.text)).toBe(false);
  });

  it('refuses a foreign Host header, as DNS rebinding sends it, before any data', async () => {
    const response = await rawRequest('/api/state', {
      headers: { host: `rebound.attacker.example:${new URL(consoleServer.url).port}`, 'x-console-token': consoleServer.token },
    });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body).error).toMatch(/not this console's loopback address/);
    // Nor the page: the rebound origin gets nothing from this server.
    expect((await rawRequest('/', { headers: { host: 'rebound.attacker.example' } })).status).toBe(403);
  });

  it('refuses a missing or wrong token, on reads, writes and the event stream', async () => {
    const wrong = { url: consoleServer.url, token: 'A'.repeat(43) };
    for (const response of [
      await fetch(`${consoleServer.url}/api/state`),
      await consoleFetch(wrong, '/api/state'),
      await consoleFetch(wrong, '/api/slack/messages', post),
      await fetch(`${consoleServer.url}/api/events?token=${'A'.repeat(43)}`),
    ]) {
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: string }).error).toMatch(/missing or wrong console token/);
    }
    expect(edgeRequests.some((body) => body.includes(post.text))).toBe(false);
  });

  it('takes writes only as application/json, and says why', async () => {
    const response = await fetch(`${consoleServer.url}/api/slack/messages`, {
      method: 'POST',
      headers: { 'x-console-token': consoleServer.token, 'content-type': 'text/plain' },
      body: JSON.stringify(post),
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: string }).error).toBe('writes take application/json, not text/plain');
    const bad = await fetch(`${consoleServer.url}/api/slack/messages`, {
      method: 'POST',
      headers: { 'x-console-token': consoleServer.token, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
  });

  it('serves the page itself without a token, and its own origin passes', async () => {
    expect((await fetch(`${consoleServer.url}/`)).status).toBe(200);
    const sameOrigin = await rawRequest('/api/state', {
      headers: { host: hostHeader(), origin: consoleServer.url, 'x-console-token': consoleServer.token },
    });
    expect(sameOrigin.status).toBe(200);
  });
});

describe("the console's codec endpoint (Temporal's remote codec protocol)", () => {
  const asJson = (payload: { metadata?: Record<string, Uint8Array | null> | null; data?: Uint8Array | null }) => ({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value!).toString('base64')]),
    ),
    data: Buffer.from(payload.data!).toString('base64'),
  });
  const sealed = async () =>
    asJson((await createEncryptionCodec(KEYS).encode([defaultPayloadConverter.toPayload({ text: 'secret plans' })]))[0]!);

  it('decodes for a holder of the token, and encodes what it decodes', async () => {
    const response = await consoleFetch(consoleServer, '/codec/decode', { payloads: [await sealed()] });
    expect(response.status).toBe(200);
    const { payloads } = (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual({ text: 'secret plans' });
    const encoded = (await (await consoleFetch(consoleServer, '/codec/encode', { payloads })).json()) as {
      payloads: { metadata: Record<string, string> }[];
    };
    expect(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
  });

  it('refuses a caller without the token, and another site', async () => {
    const body = JSON.stringify({ payloads: [await sealed()] });
    expect(
      (await fetch(`${consoleServer.url}/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status,
    ).toBe(401);
    expect(
      (
        await fetch(`${consoleServer.url}/codec/${'A'.repeat(43)}/decode`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
      ).status,
    ).toBe(401);
    const foreign = await rawRequest(`/codec/${consoleServer.token}/decode`, {
      method: 'POST',
      headers: { host: hostHeader(), origin: 'https://attacker.example', 'content-type': 'application/json' },
      body,
    });
    expect(foreign.status).toBe(403);
  });

  it("answers the Web UI's preflight and its request, the token in the endpoint's path", async () => {
    const preflight = await rawRequest(`/codec/${consoleServer.token}/decode`, {
      method: 'OPTIONS',
      headers: {
        host: hostHeader(),
        origin: WEB_UI,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    const decoded = await fetch(`${consoleServer.codecEndpoint}/decode`, {
      method: 'POST',
      headers: { origin: WEB_UI, 'content-type': 'application/json', 'x-namespace': 'default' },
      body: JSON.stringify({ payloads: [await sealed()] }),
    });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(WEB_UI);
    // The same Web UI opened as localhost.
    const byName = await fetch(`${consoleServer.codecEndpoint}/decode`, {
      method: 'POST',
      headers: { origin: 'http://localhost:8233', 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [await sealed()] }),
    });
    expect(byName.status).toBe(200);
    const bad = await consoleFetch(consoleServer, '/codec/decode', { payloads: [{ data: 'not base64!' }] });
    expect(bad.status).toBe(400);
  });
});

describe('the data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'console-secrets-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is made 0700 with its secrets file 0600, and an older, open one is tightened', () => {
    const fresh = join(dataDir, 'fresh');
    localSecrets(fresh);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    expect(statSync(join(fresh, 'local-secrets.json')).mode & 0o777).toBe(0o600);

    const old = join(dataDir, 'old');
    localSecrets(old);
    chmodSync(old, 0o755);
    writeFileSync(join(old, 'local-secrets.json'), JSON.stringify(JSON.parse(JSON.stringify(localSecrets(old)))), { mode: 0o644 });
    chmodSync(join(old, 'local-secrets.json'), 0o644);
    const kept = localSecrets(old);
    expect(statSync(old).mode & 0o777).toBe(0o700);
    expect(statSync(join(old, 'local-secrets.json')).mode & 0o777).toBe(0o600);
    expect(localSecrets(old)).toEqual(kept);
  });
});
