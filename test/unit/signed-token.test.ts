import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signToken, verifyToken } from '../../events/signed-token.ts';

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
    const forgedBody = Buffer.from(JSON.stringify({ requestId: 'r2', purpose: 'approval', expiresAt: AT / 1000 + 60 })).toString(
      'base64url',
    );
    const cases: [string, string, string][] = [
      [token, 'other-secret', 'token signature does not match'],
      [`${forgedBody}.${mac}`, SECRET, 'token signature does not match'],
      [`${body}.${mac.slice(0, -2)}`, SECRET, 'token is not in canonical base64url'],
      [`${body}.${'A'.repeat(43)}`, SECRET, 'token signature does not match'],
      [`${body}.${mac}.extra`, SECRET, 'token is malformed'],
      ['no-dot', SECRET, 'token is malformed'],
      ['x'.repeat(5000), SECRET, 'token is too long'],
    ];
    for (const [candidate, secret, reason] of cases) {
      expect(verifyToken(candidate, secret, { purpose: 'approval', now })).toEqual({ ok: false, reason });
    }
    expect(verifyToken(token, SECRET, { purpose: 'email-reply', now })).toEqual({
      ok: false,
      reason: 'token is for "approval", not "email-reply"',
    });
    expect(verifyToken(token, SECRET, { purpose: 'approval', now: later })).toEqual({ ok: false, reason: 'token has expired' });
  });

  it('verifies only the canonical encoding: no padding, no base64 alphabet, no stray bits', () => {
    // Claims chosen so the encodings differ: '-' and '_' in base64url are '+' and '/' in base64.
    const token = signToken({ note: '>>>???~~~' }, SECRET, { purpose: 'approval', expiresInSeconds: 60, now });
    const [body, mac] = token.split('.') as [string, string];
    const base64 = (text: string) => Buffer.from(text, 'base64url').toString('base64');
    expect(verifyToken(token, SECRET, { purpose: 'approval', now }).ok).toBe(true);
    // The MAC is 32 bytes: 43 characters whose last one carries 4 bits and 2 ignored ones.
    const lastIndex = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(mac.at(-1) as string);
    const strayBits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[lastIndex ^ 1] as string;
    const variants = [
      `${body}.${mac}=`,
      `${body}.${base64(mac)}`,
      `${base64(body)}.${mac}`,
      `${body}.${mac.slice(0, -1)}${strayBits}`,
      `${body}=.${mac}`,
      ` ${body}.${mac}`,
      `${body}.${mac}\n`,
    ];
    expect(base64(body)).not.toBe(body);
    for (const variant of variants) {
      expect(
        Buffer.from(variant.split('.')[1] as string, 'base64url').equals(Buffer.from(mac, 'base64url')) || variant.split('.')[0] !== body,
      ).toBe(true);
      expect(verifyToken(variant, SECRET, { purpose: 'approval', now })).toEqual({
        ok: false,
        reason: 'token is not in canonical base64url',
      });
    }
  });

  it('is bound to its purpose: a token for one use never passes as another, even with the same secret', () => {
    const reply = signToken({ conversationId: 'email:root@x' }, SECRET, { purpose: 'email-reply', now });
    expect(verifyToken(reply, SECRET, { purpose: 'approval', now })).toEqual({
      ok: false,
      reason: 'token is for "email-reply", not "approval"',
    });
    // Claims cannot override the envelope: the purpose and expiry signed are the signer's.
    const sneaky = signToken({ purpose: 'approval', expiresAt: 9e12 } as Record<string, unknown>, SECRET, {
      purpose: 'email-reply',
      expiresInSeconds: 60,
      now,
    });
    expect(verifyToken(sneaky, SECRET, { purpose: 'approval', now }).ok).toBe(false);
  });

  it('expires at its expiry second, not a second later, and refuses an expiry that is not whole seconds', () => {
    const token = signToken({}, SECRET, { purpose: 'approval', expiresInSeconds: 60, now });
    expect(verifyToken(token, SECRET, { purpose: 'approval', now: () => AT + 59_999 }).ok).toBe(true);
    expect(verifyToken(token, SECRET, { purpose: 'approval', now: () => AT + 60_000 })).toEqual({ ok: false, reason: 'token has expired' });
    const body = Buffer.from(JSON.stringify({ purpose: 'approval', expiresAt: 'never' })).toString('base64url');
    const forged = `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
    expect(verifyToken(forged, SECRET, { purpose: 'approval', now })).toEqual({ ok: false, reason: 'token claims lack purpose or expiry' });
    const fractional = Buffer.from(JSON.stringify({ purpose: 'approval', expiresAt: AT / 1000 + 0.5 })).toString('base64url');
    expect(
      verifyToken(`${fractional}.${createHmac('sha256', SECRET).update(fractional).digest('base64url')}`, SECRET, {
        purpose: 'approval',
        now,
      }),
    ).toEqual({
      ok: false,
      reason: 'token expiry is not a whole number of seconds',
    });
  });

  it('refuses to sign or verify with an empty secret', () => {
    expect(() => signToken({}, '', { purpose: 'approval' })).toThrow(/non-empty secret/);
    expect(() => verifyToken('a.b', '', { purpose: 'approval' })).toThrow(/non-empty secret/);
  });
});
