import type { SuggestedPrompt } from '../../authoring/suggested-prompts.ts';

/**
 * The Slack Web API calls the edge makes itself, each answering a request Slack waits on:
 * posting the root message a slash command's conversation lives under, and setting the
 * suggested prompts of a new assistant thread. Plain `fetch`, no SDK: the edge stays small.
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
  const call = slackApiCall(options);
  return async function postRootMessage(channel, text) {
    const body = await call('chat.postMessage', { channel, text, unfurl_links: false, unfurl_media: false });
    if (body.ok && typeof body.ts === 'string' && /^\d{1,12}\.\d{1,9}$/.test(body.ts)) return { ok: true, ts: body.ts };
    return { ok: false, error: String(body.error ?? 'no ts').slice(0, 60) };
  };
}

/** Where prompts go: an assistant thread, or (no `threadTs`) the top of an `agent_view` DM. */
export type SetSuggestedPrompts = (
  where: { channelId: string; threadTs?: string },
  prompts: SuggestedPrompt[],
) => Promise<{ ok: true } | { ok: false; error: string }>;

/**
 * `assistant.threads.setSuggestedPrompts`: on a new assistant thread, or, without `thread_ts`,
 * at the top of the DM an `agent_view` app's user just opened (`app_home_opened`, tab `messages`).
 */
export function createSuggestedPromptsSetter(options: SlackPosterOptions): SetSuggestedPrompts {
  const call = slackApiCall(options);
  return async function setSuggestedPrompts({ channelId, threadTs }, prompts) {
    const body = await call('assistant.threads.setSuggestedPrompts', {
      channel_id: channelId,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      prompts,
    });
    return body.ok ? { ok: true } : { ok: false, error: String(body.error ?? 'refused').slice(0, 60) };
  };
}

type SlackAnswer = { ok?: boolean; ts?: string; error?: string };

function slackApiCall(options: SlackPosterOptions): (method: string, args: Record<string, unknown>) => Promise<SlackAnswer> {
  const base = options.apiUrl ?? 'https://slack.com/api/';
  return async (method, args) => {
    try {
      const response = await fetch(new URL(method, base.endsWith('/') ? base : `${base}/`), {
        method: 'POST',
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(args),
        signal: AbortSignal.timeout(options.timeoutMs ?? 1200),
      });
      if (response.status === 429) return { ok: false, error: 'ratelimited' };
      return (await response.json()) as SlackAnswer;
    } catch (error) {
      return { ok: false, error: (error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable' };
    }
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
