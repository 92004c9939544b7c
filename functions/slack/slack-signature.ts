import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { IngressVariables } from './raw-body.ts';

export interface SlackSignatureOptions {
  /** The app's signing secret. */
  signingSecret: string;
  /** How far the request timestamp may be from now, either way. @default 300 */
  toleranceSeconds?: number;
  /** Clock, in milliseconds. @default Date.now */
  now?: () => number;
}

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`: what Slack sends in `X-Slack-Signature`. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/**
 * Verifies Slack's v0 request signature over the raw body (left by `rawBody`), in constant
 * time, and refuses timestamps outside the tolerance so a captured request cannot be replayed.
 */
export function verifySlackSignature(options: SlackSignatureOptions): MiddlewareHandler<{ Variables: IngressVariables }> {
  if (!options.signingSecret) throw new TypeError('verifySlackSignature needs a signing secret (SLACK_SIGNING_SECRET).');
  const tolerance = options.toleranceSeconds ?? 300;
  const now = options.now ?? Date.now;
  return async function verifySlackSignatureMiddleware(c, next) {
    const timestamp = c.req.header('x-slack-request-timestamp');
    const signature = c.req.header('x-slack-signature');
    if (!timestamp) throw unauthorized('X-Slack-Request-Timestamp header is missing');
    if (!signature) throw unauthorized('X-Slack-Signature header is missing');
    if (!/^\d{1,12}$/.test(timestamp)) throw unauthorized('X-Slack-Request-Timestamp is not a Unix time in seconds');
    const skew = Math.floor(now() / 1000) - Number(timestamp);
    if (skew > tolerance) throw unauthorized(`request timestamp is ${skew} s old, more than ${tolerance} s`);
    if (skew < -tolerance) throw unauthorized(`request timestamp is ${-skew} s in the future, more than ${tolerance} s`);
    const expected = Buffer.from(slackSignature(options.signingSecret, timestamp, c.var.rawBody), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw unauthorized('X-Slack-Signature does not match the request');
    }
    await next();
  };
}

function unauthorized(reason: string): HTTPException {
  return new HTTPException(401, { message: reason });
}
