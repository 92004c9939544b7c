import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';

/** Parses a JSON body; anything else is a 400 that says so. */
export function parseJsonBody(text: string, what = 'request body'): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Parses `application/x-www-form-urlencoded` strictly: `URLSearchParams` silently repairs
 * broken percent-escapes, and a body Slack signed would never contain one.
 */
export function parseFormBody(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  if (text.trim() === '') throw badRequest('form body is empty');
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    if (separator <= 0) throw badRequest(`form body is not URL-encoded: "${pair.slice(0, 40)}" has no name=value`);
    const name = decodeFormComponent(pair.slice(0, separator));
    if (fields.has(name)) throw badRequest(`form field ${name} appears more than once`);
    fields.set(name, decodeFormComponent(pair.slice(separator + 1)));
  }
  return fields;
}

/** Validates a parsed payload; the 400 names the first field that does not fit. */
export function requireShape<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.infer<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue && issue.path.length > 0 ? `${what}.${issue.path.join('.')}` : what;
  throw badRequest(`${path}: ${issue?.message ?? 'invalid'}`);
}

export function badRequest(reason: string): HTTPException {
  return new HTTPException(400, { message: reason });
}

function decodeFormComponent(component: string): string {
  try {
    return decodeURIComponent(component.replaceAll('+', ' '));
  } catch {
    throw badRequest(`form body is not URL-encoded: bad escape in "${component.slice(0, 40)}"`);
  }
}
