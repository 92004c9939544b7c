import { describe, expect, it } from 'vitest';
import { signToken, verifyToken } from '../../core/signed-token.ts';

const SECRET = 'unit-secret';
const AT = Date.parse('2025-01-01T00:00:00Z');
const now = () => AT;

describe('signed tokens', () => {
  it('round-trips claims with purpose and expiry', () => {
    const token = signToken({ requestId: 'r1' }, SECRET, { purpose: 'approval', expiresInSeconds: 60, now });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyToken(token, SECRET, { purpose: 'approval', now })).toEqual({
      ok: true,
      claims: { requestId: 'r1', purpose: 'approval', expiresAt: AT / 1000 + 60 },
    });
  });

  it('refuses another secret, another purpose, expiry, tampering and junk', () => {
    const token = signToken({ requestId: 'r1' }, SECRET, { purpose: 'approval', expiresInSeconds: 60, now });
    const [body, mac] = token.split('.') as [string, string];
    const later = () => AT + 61_000;
    const forgedBody = Buffer.from(JSON.stringify({ requestId: 'r2', purpose: 'approval', expiresAt: AT / 1000 + 60 })).toString('base64url');
    const cases: [string, string, string][] = [
      [token, 'other-secret', 'token signature does not match'],
      [`${forgedBody}.${mac}`, SECRET, 'token signature does not match'],
      [`${body}.${mac.slice(0, -2)}`, SECRET, 'token signature does not match'],
      [`${body}.${mac}.extra`, SECRET, 'token is malformed'],
      ['no-dot', SECRET, 'token is malformed'],
      ['x'.repeat(5000), SECRET, 'token is too long'],
    ];
    for (const [candidate, secret, reason] of cases) {
      expect(verifyToken(candidate, secret, { purpose: 'approval', now })).toEqual({ ok: false, reason });
    }
    expect(verifyToken(token, SECRET, { purpose: 'email-reply', now })).toEqual({ ok: false, reason: 'token is for "approval", not "email-reply"' });
    expect(verifyToken(token, SECRET, { purpose: 'approval', now: later })).toEqual({ ok: false, reason: 'token has expired' });
  });

  it('refuses to sign or verify with an empty secret', () => {
    expect(() => signToken({}, '', { purpose: 'approval' })).toThrow(/non-empty secret/);
    expect(() => verifyToken('a.b', '', { purpose: 'approval' })).toThrow(/non-empty secret/);
  });
});
