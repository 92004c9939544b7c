/**
 * The one Slack Web API call the edge makes: posting the root message a slash command's
 * conversation lives under. Plain `fetch`, no SDK: the edge stays small.
 */

export interface SlackPosterOptions {
  /** The bot token (`xoxb-…`). */
  token: string;
  /** @default 'https://slack.com/api/' */
  apiUrl?: string;
  /** Slack waits 3 s for the command's answer; this leaves room for SQS. @default 1200 ms */
  timeoutMs?: number;
}

export type PostResult = { ok: true; ts: string } | { ok: false; error: string };

export type PostRootMessage = (channel: string, text: string) => Promise<PostResult>;

export function createSlackPoster(options: SlackPosterOptions): PostRootMessage {
  const base = options.apiUrl ?? 'https://slack.com/api/';
  const url = new URL('chat.postMessage', base.endsWith('/') ? base : `${base}/`);
  return async function postRootMessage(channel, text) {
    let body: { ok?: boolean; ts?: string; error?: string };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ channel, text, unfurl_links: false, unfurl_media: false }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 1200),
      });
      body = (await response.json()) as typeof body;
    } catch (error) {
      return { ok: false, error: (error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable' };
    }
    if (body.ok && typeof body.ts === 'string' && /^\d{1,12}\.\d{1,9}$/.test(body.ts)) return { ok: true, ts: body.ts };
    return { ok: false, error: String(body.error ?? 'no ts').slice(0, 60) };
  };
}

/** Text Slack shows as written: `&`, `<`, `>` escaped, and `@here`-style words broken so nobody is notified. */
export function slackPlainText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/(^|[^\w.+-])@(channel|here|everyone)\b/gi, '$1@\u2060$2');
}
