/**
 * The stand-in's rate limits: Slack's tier per method, the reads of apps outside the
 * Marketplace, and the per-stream limit of `chat.appendStream`.
 */

/**
 * Web API rate tiers (docs.slack.dev/apis/web-api/rate-limits): calls a minute per method and
 * workspace. Tier 1: 1+, Tier 2: 20+, Tier 3: 50+, Tier 4: 100+. `chat.postMessage` is
 * "special" (about one a second per channel) and `chat.appendStream` also has the per-stream
 * limit the server applies; both are left to those.
 */
export const METHOD_TIERS: Record<string, 1 | 2 | 3 | 4> = {
  'agents.sessions.setStatus': 3,
  'agents.sessions.rename': 3,
  'assistant.threads.setStatus': 3,
  'assistant.threads.setSuggestedPrompts': 3,
  'chat.startStream': 2,
  'chat.appendStream': 4,
  'chat.stopStream': 2,
  'chat.update': 3,
  'conversations.history': 3,
  'conversations.replies': 3,
  'auth.test': 4,
  'apps.manifest.create': 1,
  'apps.manifest.validate': 3,
};
export const TIER_CALLS_PER_MINUTE = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;

/**
 * Apps outside the Slack Marketplace, created from 2025-05-29 on: `conversations.history` and
 * `conversations.replies` drop to one call a minute, and `limit` to 15 (Slack's changelog,
 * "Rate limit changes for non-Marketplace apps").
 */
export const NON_MARKETPLACE_READS = {
  methods: ['conversations.history', 'conversations.replies'],
  callsPerMinute: 1,
  maxLimit: 15,
} as const;

/** Per-method calls a minute, sliding: `take` answers the seconds to wait, or 0 when the call may go. */
export function createTierLimiter(callsPerMinute: (method: string) => number | undefined) {
  const recent = new Map<string, number[]>();
  return {
    take(method: string, now: number): number {
      const limit = callsPerMinute(method);
      if (limit === undefined) return 0;
      const times = (recent.get(method) ?? []).filter((at) => now - at < 60_000);
      if (times.length >= limit) {
        recent.set(method, times);
        return Math.max(1, Math.ceil((60_000 - (now - (times[0] as number))) / 1000));
      }
      times.push(now);
      recent.set(method, times);
      return 0;
    },
  };
}

/** `chat.appendStream` per stream: at most `perSecond` appends in any second; `take` answers whether this one may go. */
export function createStreamAppendLimiter(perSecond: number) {
  /** ts → times of recent appends. */
  const appendTimes = new Map<string, number[]>();
  return {
    take(ts: string, now: number): boolean {
      const recent = (appendTimes.get(ts) ?? []).filter((at) => now - at < 1000);
      if (recent.length >= perSecond) return false;
      appendTimes.set(ts, [...recent, now]);
      return true;
    },
  };
}
