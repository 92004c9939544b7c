import { ApplicationFailure } from '@temporalio/common';
import { ErrorCode, LogLevel, WebClient, type WebAPICallResult } from '@slack/web-api';

export interface SlackWebClientOptions {
  /** The bot token (`xoxb-…`). */
  token: string;
  /** @default 'https://slack.com/api/' (the local stand-in: `http://127.0.0.1:PORT/api/`) */
  apiUrl?: string;
  /** Per-request deadline. @default 10000 ms */
  timeoutMs?: number;
}

/**
 * A `WebClient` that leaves every retry to its caller: no retries of its own (Temporal
 * retries activities, with backoff), and a 429 is thrown at once with its `Retry-After`,
 * for `createSlackCaller` to honour. Two layers of retry multiply into storms; one does not.
 */
export function createSlackWebClient(options: SlackWebClientOptions): WebClient {
  return new WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/` } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: options.timeoutMs ?? 10_000,
    logLevel: LogLevel.ERROR,
    allowAbsoluteUrls: false,
  });
}

export interface SlackCallerOptions {
  /**
   * Longest `Retry-After` waited in process; a longer one fails the call as retryable with
   * `nextRetryDelay` set to it, so the activity sleeps in Temporal, not in a worker slot.
   * @default 30000 ms
   */
  maxInlineWaitMs?: number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  now?: () => number;
}

/** Runs one Slack call; every call of a caller waits out the last 429 any of them met. */
export type SlackCaller = <Result extends WebAPICallResult>(method: string, call: () => Promise<Result>) => Promise<Result>;

/** Rate-limited attempts of one call before it is handed back to Temporal. */
const MAX_RATE_LIMITED_ATTEMPTS = 3;
/** Slack errors that a later attempt can get past. */
const TRANSIENT_SLACK_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/**
 * Wraps Slack calls with one shared pause: a 429 on any call pauses every call of this caller
 * until `Retry-After` has passed (Slack's limits are per app and workspace, not per request),
 * then the call is tried again. Errors come out split by whether a retry can help.
 */
export function createSlackCaller(options: SlackCallerOptions = {}): SlackCaller {
  const maxInlineWaitMs = options.maxInlineWaitMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  let pausedUntil = 0;

  return async function callSlack(method, call) {
    for (let attempt = 1; ; attempt++) {
      const wait = pausedUntil - now();
      if (wait > 0) await sleep(wait);
      try {
        return await call();
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === ErrorCode.RateLimitedError) {
          const retryAfterMs = Math.max(1, (error as { retryAfter: number }).retryAfter) * 1000;
          pausedUntil = Math.max(pausedUntil, now() + retryAfterMs);
          if (retryAfterMs <= maxInlineWaitMs && attempt < MAX_RATE_LIMITED_ATTEMPTS) continue;
          throw ApplicationFailure.create({
            message: `Slack ${method} is rate limited; Retry-After ${retryAfterMs / 1000} s`,
            type: 'SlackRateLimited',
            nextRetryDelay: retryAfterMs,
          });
        }
        throw classifySlackError(method, error);
      }
    }
  };
}

/** Refusals (`channel_not_found`, `invalid_auth`, `msg_too_long`…) are final; network trouble and Slack's own faults are not. */
export function classifySlackError(method: string, error: unknown): Error {
  const code = (error as { code?: string }).code;
  if (code === ErrorCode.PlatformError) {
    const slackError = (error as { data: { error: string } }).data.error;
    if (TRANSIENT_SLACK_ERRORS.has(slackError)) return new Error(`Slack ${method} failed: ${slackError}`);
    return ApplicationFailure.nonRetryable(`Slack refused ${method}: ${slackError}`, 'SlackRefused');
  }
  if (code === ErrorCode.HTTPError) {
    const status = (error as { statusCode: number }).statusCode;
    if (status >= 400 && status < 500 && status !== 408) {
      return ApplicationFailure.nonRetryable(`Slack ${method} answered HTTP ${status}`, 'SlackRefused');
    }
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The Slack error code of a refusal (`thread_not_found`…), or undefined. */
export function slackErrorCode(error: unknown): string | undefined {
  if ((error as { code?: string }).code === ErrorCode.PlatformError) return (error as { data: { error: string } }).data.error;
  const message = error instanceof ApplicationFailure ? error.message : '';
  return /^Slack refused [\w.]+: (\w+)$/.exec(message)?.[1];
}
