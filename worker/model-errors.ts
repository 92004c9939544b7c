import { ApplicationFailure } from '@temporalio/common';

/** Error types a model call can fail with. Wire contracts: matched by retry policies and callers. */
export const ModelErrorType = {
  /** The request itself is wrong (bad schema, bad model id, content too large): retrying cannot help. */
  InvalidRequest: 'ModelInvalidRequest',
  /** Gemini does not serve the model (404, or a 400 naming it): another model id is the fix. */
  ModelRefused: 'ModelRefused',
  /** The API key is missing, wrong or lacks permission. */
  Unauthorized: 'ModelUnauthorized',
  /** 429: retried after the provider's delay. */
  RateLimited: 'ModelRateLimited',
  /** 5xx or network: retried with backoff. */
  Unavailable: 'ModelUnavailable',
} as const;

const RETRYABLE_CLIENT_STATUSES = new Set([408, 409, 425]);

/**
 * Turns a provider failure into what Temporal should do with it: non-retryable for input
 * errors, retry after `Retry-After` for 429, plain backoff for the rest.
 */
export function classifyModelError(error: unknown, retryAfter: string | null | undefined, model?: string): Error {
  const status = statusOf(error);
  const message = messageOf(error);
  if (model !== undefined && refusesModel(status, message, model)) {
    return ApplicationFailure.nonRetryable(modelRefusedLine(model, status!, geminiSaid(message)), ModelErrorType.ModelRefused);
  }
  if (status === 429) {
    const delayMs = parseRetryAfter(retryAfter) ?? retryInfoDelay(message);
    return ApplicationFailure.create({
      type: ModelErrorType.RateLimited,
      message: `Gemini rate limit (429): ${message}`,
      ...(delayMs === undefined ? {} : { nextRetryDelay: delayMs }),
    });
  }
  if (status === 401 || status === 403) {
    return ApplicationFailure.nonRetryable(
      `Gemini refused the credentials (${status}): ${message}. Check GOOGLE_API_KEY.`,
      ModelErrorType.Unauthorized,
    );
  }
  if (status !== undefined && status >= 400 && status < 500 && !RETRYABLE_CLIENT_STATUSES.has(status)) {
    return ApplicationFailure.nonRetryable(`Gemini rejected the request (${status}): ${message}`, ModelErrorType.InvalidRequest);
  }
  return ApplicationFailure.create({
    type: ModelErrorType.Unavailable,
    message: status === undefined ? `Gemini unreachable: ${message}` : `Gemini unavailable (${status}): ${message}`,
  });
}

/**
 * The one line a person, the console and the log get when Gemini will not run the model: the
 * model, what Gemini said, and the settings that change it.
 */
export function modelRefusedLine(model: string, status: number, said: string): string {
  return `Gemini refused model "${model}" (${status}): ${said} Set GEMINI_MODEL, or the agent's "model", to a model Gemini serves (see docs/models-and-costs.md).`;
}

/** A 404 from a model's endpoint is about the model; a 400 is when Gemini's message names it. */
function refusesModel(status: number | undefined, message: string, model: string): boolean {
  if (status === 404) return true;
  return (
    status === 400 &&
    (message.includes(`models/${model}`) || /\bmodel\b.*\b(not found|not supported|unsupported|deprecated|shut ?down)/i.test(message))
  );
}

/** Gemini's own words: the `error.message` of its JSON body when the SDK passes the body on. */
function geminiSaid(message: string): string {
  const json = message.slice(message.indexOf('{'));
  try {
    const said = (JSON.parse(json) as { error?: { message?: unknown } }).error?.message;
    if (typeof said === 'string') return said.endsWith('.') ? said : `${said}.`;
  } catch {
    // Not JSON: the message as it came.
  }
  return message.endsWith('.') ? message : `${message}.`;
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds. */
function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Gemini also says how long to wait in a `google.rpc.RetryInfo` detail: `"retryDelay": "12s"`. */
function retryInfoDelay(message: string): number | undefined {
  const match = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(message);
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number') {
    return error.status;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
