import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';

/** The header the console's page sends its token in. */
export const CONSOLE_TOKEN_HEADER = 'x-console-token';

/** A fresh token for one start of the console: 256 random bits, URL-safe. */
export function newConsoleToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface ConsoleGuardOptions {
  token: string;
  /** The port the console listens on, known once it listens. */
  port(): number;
  /** The configured CONSOLE_HOST: its name is accepted besides the loopback names. */
  host: string;
  /** Origins besides the console's own that may call the codec routes (the Temporal Web UI). */
  codecOrigins: string[];
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * What the console answers, and to whom. Anything that can reach a local port is untrusted:
 * - the Host header must name the console on a loopback address, which a page that
 *   re-bound its own domain to 127.0.0.1 cannot send (DNS rebinding);
 * - an Origin, when the browser sends one, must be the console's own (cross-site requests),
 *   or for the codec routes the Temporal Web UI's;
 * - `/api/` and `/codec/` need the token made at this start, which only the person who
 *   opened the printed URL holds (other users of the machine, other programs);
 * - writes must be `application/json`, which a cross-site form or a "simple" fetch cannot send
 *   without a preflight that this guard refuses.
 * The page itself (`/`, its script and style) holds no data and needs no token.
 */
export function consoleGuard(options: ConsoleGuardOptions): MiddlewareHandler {
  const expected = Buffer.from(options.token);
  const hosts = () => {
    const names = new Set([
      ...LOOPBACK_NAMES,
      options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host,
    ]);
    return new Set([...names].map((name) => `${name}:${options.port()}`));
  };
  const holdsToken = (c: Context) => {
    const path = c.req.path;
    // EventSource cannot send headers, so the event stream alone takes the token in its query.
    const presented =
      c.req.header(CONSOLE_TOKEN_HEADER) ?? codecPathToken(path) ?? (path === '/api/events' ? c.req.query('token') : undefined);
    if (!presented) return false;
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  return async function guardConsole(c, next) {
    const refuse = (status: 401 | 403 | 405 | 415, error: string) => c.json({ ok: false, error }, status);
    const host = c.req.header('host') ?? '';
    if (!hosts().has(host.toLowerCase()))
      return refuse(403, `Host "${host}" is not this console's loopback address; open the URL npm start printed.`);

    const isCodec = c.req.path.startsWith('/codec/');
    const ownOrigins = [...hosts()].map((name) => `http://${name}`);
    const allowedOrigins = isCodec ? [...ownOrigins, ...options.codecOrigins] : ownOrigins;
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowedOrigins.includes(origin)) return refuse(403, `cross-site request from origin ${origin} refused`);
    if (origin === undefined && c.req.header('sec-fetch-site') === 'cross-site') return refuse(403, 'cross-site request refused');

    if (c.req.method === 'OPTIONS') {
      // The Temporal Web UI's preflight before it posts payloads to the codec routes.
      if (!isCodec || origin === undefined) return refuse(405, 'no cross-origin access here');
      return c.body(null, 204, corsHeaders(origin));
    }
    if (isCodec && origin !== undefined) for (const [name, value] of Object.entries(corsHeaders(origin))) c.header(name, value);

    if ((c.req.path.startsWith('/api/') || isCodec) && !holdsToken(c)) {
      return refuse(401, 'missing or wrong console token: open the URL npm start printed (the token changes at each start)');
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') return refuse(415, `writes take application/json, not ${type || 'no content type'}`);
    }
    await next();
  };
}

/** `/codec/<token>/decode`: the Temporal Web UI cannot send a header of ours, so its endpoint setting carries the token. */
function codecPathToken(path: string): string | undefined {
  const match = /^\/codec\/([A-Za-z0-9_-]{20,})\/(?:encode|decode)$/.exec(path);
  return match?.[1];
}

function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': `content-type, x-namespace, authorization, ${CONSOLE_TOKEN_HEADER}`,
    'access-control-max-age': '600',
    vary: 'origin',
  };
}
