import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Small signed tokens: `base64url(JSON claims) + '.' + base64url(HMAC-SHA256)`. They carry an
 * approval request id on a Slack button, or a conversation id in an email plus-address, and
 * come back to the ingress, which must trust them without storage. The claims are readable:
 * never put a secret in them.
 */

/** What every token carries besides its own claims. */
export interface TokenEnvelope {
  /** What the token is for (`'approval'`, `'email-reply'`): one purpose's token never passes as another's. */
  purpose: string;
  /** Expiry, in seconds since the epoch. */
  expiresAt: number;
}

export interface SignTokenOptions {
  purpose: string;
  /** Lifetime in seconds. @default 7 days */
  expiresInSeconds?: number;
  /** Clock, in milliseconds. @default Date.now */
  now?: () => number;
}

export interface VerifyTokenOptions {
  purpose: string;
  /** Clock, in milliseconds. @default Date.now */
  now?: () => number;
}

export type VerifiedToken<Claims> = { ok: true; claims: Claims & TokenEnvelope } | { ok: false; reason: string };

const SEVEN_DAYS = 7 * 24 * 60 * 60;
/** Tokens longer than this are refused before any parsing. */
const MAX_TOKEN_LENGTH = 4096;

export function signToken<Claims extends Record<string, unknown>>(claims: Claims, secret: string, options: SignTokenOptions): string {
  requireSecret(secret);
  const now = options.now ?? Date.now;
  const envelope: TokenEnvelope = {
    purpose: options.purpose,
    expiresAt: Math.floor(now() / 1000) + (options.expiresInSeconds ?? SEVEN_DAYS),
  };
  const body = Buffer.from(JSON.stringify({ ...claims, ...envelope }), 'utf8').toString('base64url');
  return `${body}.${mac(body, secret).toString('base64url')}`;
}

/** Checks the MAC in constant time, then the purpose and expiry; never throws. */
export function verifyToken<Claims extends Record<string, unknown>>(
  token: string,
  secret: string,
  options: VerifyTokenOptions,
): VerifiedToken<Claims> {
  requireSecret(secret);
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'token is too long' };
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return { ok: false, reason: 'token is malformed' };
  // Only the one encoding signToken produces verifies: unpadded base64url whose bits all
  // count. Node's decoder also takes '+', '/', '=' and stray trailing bits, so the same MAC
  // would otherwise verify under several spellings of one token.
  if (!isCanonicalBase64url(body) || !isCanonicalBase64url(signature)) return { ok: false, reason: 'token is not in canonical base64url' };
  const expected = Buffer.from(mac(body, secret).toString('base64url'), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'token signature does not match' };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'token claims are not JSON' };
  }
  if (!isEnvelope(claims)) return { ok: false, reason: 'token claims lack purpose or expiry' };
  if (!Number.isSafeInteger(claims.expiresAt)) return { ok: false, reason: 'token expiry is not a whole number of seconds' };
  if (claims.purpose !== options.purpose) {
    return { ok: false, reason: `token is for "${claims.purpose}", not "${options.purpose}"` };
  }
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  if (claims.expiresAt <= nowSeconds) return { ok: false, reason: 'token has expired' };
  return { ok: true, claims: claims as Claims & TokenEnvelope };
}

function mac(body: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** Unpadded base64url that decodes and re-encodes to itself (no '+', '/', '=', no stray bits). */
function isCanonicalBase64url(text: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;
}

function requireSecret(secret: string): void {
  if (!secret) throw new TypeError('A signed token needs a non-empty secret.');
}

function isEnvelope(value: unknown): value is TokenEnvelope & Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.purpose === 'string' && typeof record.expiresAt === 'number';
}
