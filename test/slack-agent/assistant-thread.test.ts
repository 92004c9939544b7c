import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../events/inbound-event.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { silentLog } from '../../functions/shared/log.ts';
import { createSuggestedPromptsSetter } from '../../functions/slack/slack-post.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { slackConfig, slackPost } from '../../testkit/ingress.ts';

const TEAM = 'T0TEAM';
const BOT_TOKEN = 'xoxb-assistant-token';
const DM = 'D0ANA';
const PROMPTS = [
  { title: 'Time in Tokyo', message: 'What time is it in Tokyo?' },
  { title: 'Weather alerts', message: 'Any weather alerts in Texas?' },
];

/** `assistant_thread_started` as Slack sends it when a person opens the assistant pane. */
function threadStarted(threadTs: string, contextChannel = 'C0GENERAL') {
  return {
    type: 'event_callback',
    team_id: TEAM,
    api_app_id: 'A0APP',
    event_id: `Ev${threadTs.replace('.', '')}`,
    event_time: Math.floor(Date.now() / 1000),
    event: {
      type: 'assistant_thread_started',
      assistant_thread: { user_id: 'U0ANA', context: { channel_id: contextChannel, team_id: TEAM }, channel_id: DM, thread_ts: threadTs },
      event_ts: threadTs,
    },
  };
}

describe('the assistant thread at the edge', () => {
  let slack: SlackApiServer;
  const queued: InboundEvent[] = [];
  const queue = { send: async (event: InboundEvent) => void queued.push(event) };

  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [BOT_TOKEN] });
  });
  afterAll(() => slack?.close());

  function edge(prompts = PROMPTS) {
    return createSlackApp({
      config: slackConfig('https://sqs.eu-west-1.amazonaws.com/123456789012/unused.fifo', { SLACK_SUGGESTED_PROMPTS: prompts }),
      queue,
      setSuggestedPrompts: createSuggestedPromptsSetter({ token: BOT_TOKEN, apiUrl: slack.url }),
      log: silentLog,
    });
  }

  it('opening the DM sets the agent’s suggested prompts on the new thread, and queues the channel it was opened from', async () => {
    const body = JSON.stringify(threadStarted('1760000000.000100'));
    const response = await edge().request('/slack/events', slackPost(body));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ingress-outcome')).toBe('queued');
    expect(slack.assistantThread(DM, '1760000000.000100')?.prompts).toEqual(PROMPTS);
    expect(queued.splice(0)).toEqual([
      expect.objectContaining({
        kind: 'context',
        conversationId: `slack:${TEAM}:${DM}:1760000000.000100`,
        context: { channelId: 'C0GENERAL' },
        user: { id: 'U0ANA' },
      }),
    ]);
  });

  it('a context change is queued for the thread’s conversation', async () => {
    const changed = threadStarted('1760000000.000500', 'C0LAUNCH');
    changed.event.type = 'assistant_thread_context_changed';
    const response = await edge().request('/slack/events', slackPost(JSON.stringify(changed)));
    expect(response.headers.get('x-ingress-outcome')).toBe('queued');
    expect(queued.splice(0)).toEqual([
      expect.objectContaining({
        kind: 'context',
        id: `slack-context:${TEAM}:${DM}:1760000000.000500:Ev1760000000000500`,
        context: { channelId: 'C0LAUNCH' },
      }),
    ]);
  });

  it('without prompts configured, the event is acknowledged and Slack shows the manifest’s', async () => {
    const body = JSON.stringify(threadStarted('1760000000.000200'));
    const response = await edge([]).request('/slack/events', slackPost(body));
    expect(response.status).toBe(200);
    expect(slack.assistantThread(DM, '1760000000.000200')).toBeUndefined();
    expect(queued.splice(0)).toHaveLength(1);
  });

  it('a refusal by Slack is logged and acknowledged: a retry would not change it', async () => {
    slack.failNext('assistant.threads.setSuggestedPrompts', 'channel_not_found');
    const response = await edge().request('/slack/events', slackPost(JSON.stringify(threadStarted('1760000000.000300'))));
    expect(response.status).toBe(200);
    expect(slack.calls.at(-1)).toMatchObject({ method: 'assistant.threads.setSuggestedPrompts', outcome: 'channel_not_found' });
    expect(queued.splice(0)).toHaveLength(1);
  });

  it('the stand-in refuses what Slack refuses: prompts outside a DM, more than four', async () => {
    const set = createSuggestedPromptsSetter({ token: BOT_TOKEN, apiUrl: slack.url });
    expect(await set({ channelId: 'C0GENERAL', threadTs: '1760000000.000400' }, PROMPTS)).toEqual({
      ok: false,
      error: 'channel_type_not_supported',
    });
    expect(await set({ channelId: DM, threadTs: '1760000000.000400' }, [...PROMPTS, ...PROMPTS, PROMPTS[0]!])).toEqual({
      ok: false,
      error: 'invalid_arguments',
    });
  });
});
