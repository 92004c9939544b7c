import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

/**
 * Who may continue an email conversation. When the worker sends a reply it writes one small
 * record, under the reply's Message-ID and under a short reply token, naming the conversation
 * and the people the reply went to. The email edge reads it: a message whose
 * `In-Reply-To`/`References` name one of our replies joins that conversation only if its
 * sender is among the participants; a message to the reply token's plus-address joins it
 * whoever wrote it (the token is the capability, and the sender is still authenticated and
 * allowed). Anything else starts a new conversation. A wire contract between the worker and
 * the edge: add optional fields, never rename one.
 */

export const emailThreadRecordSchema = z.object({
  version: z.literal(1),
  conversationId: z.string().min(1).max(1000),
  agent: z.string().min(1).max(64),
  /** Lower-case addresses the reply went to. */
  participants: z.array(z.string().min(3).max(254)).max(50),
  /** Seconds since the epoch after which the record no longer joins anyone. */
  expiresAt: z.number().int(),
});
export type EmailThreadRecord = z.infer<typeof emailThreadRecordSchema>;

/**
 * A reply token fits a plus-address: `agent+<token>@domain` within the 64 characters RFC 5321
 * allows a local part. 16 base32 characters of random id (80 bits: the lookup key) and 16 of
 * truncated HMAC (80 bits: forgeries are refused before any lookup). Lower-case base32, so a
 * mail system that folds the case of local parts does not break it.
 */
export const REPLY_TOKEN_LENGTH = 32;
/** RFC 5321 §4.5.3.1.1. */
export const MAX_LOCAL_PART = 64;
const ID_BYTES = 10;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Whether `agent+<token>` fits in a local part. */
export function replyTokenFits(agent: string): boolean {
  return agent.length + 1 + REPLY_TOKEN_LENGTH <= MAX_LOCAL_PART;
}

/** A fresh token; `id` is what the record is stored under. */
export function mintReplyToken(secret: string, random: (size: number) => Uint8Array = randomBytes): { token: string; id: string } {
  const id = base32(random(ID_BYTES));
  return { token: `${id}${tokenMac(id, secret)}`, id };
}

export type CheckedReplyToken = { ok: true; id: string } | { ok: false; reason: string };

/** Checks the MAC in constant time; case-insensitive by design (see above). */
export function checkReplyToken(token: string, secret: string): CheckedReplyToken {
  const canonical = token.toLowerCase();
  if (!/^[a-z2-7]+$/.test(canonical) || canonical.length !== REPLY_TOKEN_LENGTH) return { ok: false, reason: 'reply token is malformed' };
  const id = canonical.slice(0, REPLY_TOKEN_LENGTH / 2);
  const expected = Buffer.from(tokenMac(id, secret), 'utf8');
  const given = Buffer.from(canonical.slice(REPLY_TOKEN_LENGTH / 2), 'utf8');
  if (!timingSafeEqual(given, expected)) return { ok: false, reason: 'reply token signature does not match' };
  return { ok: true, id };
}

/** Lower-case and trimmed: how participants are stored and compared. */
export function participantAddress(address: string): string {
  return address.trim().toLowerCase();
}

function tokenMac(id: string, secret: string): string {
  if (!secret) throw new TypeError('A reply token needs a non-empty secret (EMAIL_REPLY_TOKEN_SECRET).');
  return base32(createHmac('sha256', secret).update(`email-reply-token:${id}`).digest().subarray(0, ID_BYTES));
}

/** RFC 4648 base32 without padding, lower case; 10 bytes → 16 characters. */
function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let output = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += BASE32[(value << (5 - bits)) & 31];
  return output;
}
