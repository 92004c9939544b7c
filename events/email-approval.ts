import { createHmac } from 'node:crypto';

/**
 * Approval by email: the request mail shows a short code, and a reply whose first line is
 * `APPROVE <code>` or `DENY <code>` decides it. The code is an HMAC of the request id, so the
 * dispatcher can match it against the conversation's pending requests without storage, and
 * nobody can make one up for a request they have not been sent.
 */

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const APPROVAL_CODE_LENGTH = 8;

export function emailApprovalCode(requestId: string, secret: string): string {
  if (!secret) throw new TypeError('An approval code needs a non-empty secret (APPROVAL_TOKEN_SECRET).');
  const digest = createHmac('sha256', secret).update(`email-approval-code:${requestId}`).digest();
  let code = '';
  for (let index = 0; index < APPROVAL_CODE_LENGTH; index++) code += CODE_ALPHABET[(digest[index] as number) % CODE_ALPHABET.length];
  return code;
}

export interface EmailApprovalReply {
  decision: 'approve' | 'deny';
  code: string;
}

/** `APPROVE K7P2M9QX` (any case, on the first non-empty line) → the decision and code; anything else → undefined. */
export function parseEmailApprovalReply(text: string): EmailApprovalReply | undefined {
  const firstLine = text.split('\n').find((line) => line.trim() !== '') ?? '';
  const match = /^\s*(approve|approved|yes|deny|denied|no)\b[\s:,-]*([A-Za-z0-9]{8})\b/i.exec(firstLine);
  if (!match) return undefined;
  const word = (match[1] as string).toLowerCase();
  return { decision: ['approve', 'approved', 'yes'].includes(word) ? 'approve' : 'deny', code: (match[2] as string).toUpperCase() };
}
