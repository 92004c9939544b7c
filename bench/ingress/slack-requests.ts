import { SIGNING_SECRET, signSlack } from '../../testkit/ingress.ts';

export { SIGNING_SECRET };

export const TEAM = 'T0BENCH';
export const BOT_USER = 'U0BOT';
export const BOT_ID = 'B0BOT';
const USER = 'U0ANA';
const CHANNEL = 'C0GENERAL';

/**
 * The `index`-th `app_mention` of a `run` as Slack posts it, signed now: each (run, index) a
 * new message in its own thread, so no queue or workflow sees the same event twice.
 */
export function appMentionRequest(index: number, run: number): { body: string; headers: Record<string, string> } {
  const seconds = 1_712_000_000 + index;
  const ts = `${seconds}.${String(run % 1_000_000).padStart(6, '0')}`;
  const body = JSON.stringify({
    token: 'legacy-verification-token',
    team_id: TEAM,
    api_app_id: 'A0APP',
    type: 'event_callback',
    event_id: `Ev${run}x${index}`,
    event_time: seconds,
    authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: BOT_USER, is_bot: true, is_enterprise_install: false }],
    event: { type: 'app_mention', user: USER, text: `<@${BOT_USER}> summarise thread ${index}`, ts, channel: CHANNEL, event_ts: ts },
  });
  return { body, headers: { 'content-type': 'application/json', ...signSlack(body) } };
}
