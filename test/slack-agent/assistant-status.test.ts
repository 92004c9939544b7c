import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyChannel } from '../../core/conversation.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';

const TOKEN = 'xoxb-status-token';
const DM = 'D0ANA';
const CHANNEL = 'C0GENERAL';

let slack: SlackApiServer;
beforeAll(async () => {
  // Slack clears a status after two minutes without a message; here after 300 ms.
  slack = await startSlackApiServer({ tokens: [TOKEN], statusTimeoutMs: 300 });
});
afterAll(() => slack?.close());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function adapter(refreshMs: number) {
  return createSlackReplyAdapter({
    client: createSlackWebClient({ token: TOKEN, apiUrl: slack.url }),
    approvalTokenSecret: 'secret',
    statusIntervalMs: 10,
    assistantStatusRefreshMs: refreshMs,
  });
}

function thread(channel: string): ReplyChannel & { kind: 'slack' } {
  return {
    kind: 'slack',
    teamId: 'T0TEAM',
    channelId: channel,
    threadTs: slack.addUserMessage({ channel, user: 'U0ANA', text: 'what is the weather in Paris?' }),
  };
}

describe('the assistant status of a turn in a DM', () => {
  it('is set while the turn works, names the step, is refreshed before Slack clears it, and is cleared when the answer lands', async () => {
    const replies = adapter(200);
    const dm = thread(DM);

    await replies.status(dm, 'turn-1', { state: 'thinking', step: 1 });
    expect(slack.currentStatus(DM, dm.threadTs)).toBe('is thinking…');
    await replies.status(dm, 'turn-1', { state: 'tool', step: 1, tool: 'get_weather' });
    const statuses = () => slack.assistantThread(DM, dm.threadTs)?.statuses ?? [];
    expect(statuses().at(-1)).toMatchObject({
      status: 'is running get_weather…',
      loadingMessages: ['Running get_weather… (step 1)', 'Waiting for get_weather to answer…'],
    });

    // Longer than Slack's timeout: the refreshes keep it shown.
    const before = statuses().length;
    await pause(700);
    expect(statuses().length).toBeGreaterThanOrEqual(before + 2);
    expect(slack.currentStatus(DM, dm.threadTs)).toBe('is running get_weather…');

    await replies.answer(dm, 'turn-1', 'It will rain in **Paris** tomorrow.');
    await replies.status(dm, 'turn-1', { state: 'done' });
    expect(slack.currentStatus(DM, dm.threadTs)).toBe('');
    expect(statuses().at(-1)?.status).toBe('');
    const settled = statuses().length;
    await pause(500);
    expect(statuses().length).toBe(settled);
    // No status message in the thread: only the person's question and the answer.
    expect(slack.messages(DM, dm.threadTs).map((message) => message.text)).toEqual([
      'what is the weather in Paris?',
      'It will rain in *Paris* tomorrow.',
    ]);
  });

  it('without refreshes, Slack (the stand-in) clears a status after its timeout', async () => {
    const replies = adapter(60_000);
    const dm = thread(DM);
    await replies.status(dm, 'turn-1', { state: 'thinking', step: 1 });
    expect(slack.currentStatus(DM, dm.threadTs)).toBe('is thinking…');
    await pause(400);
    expect(slack.currentStatus(DM, dm.threadTs)).toBe('');
    await replies.status(dm, 'turn-1', { state: 'stopped' });
  });

  it('in a channel the status message stays, as before', async () => {
    const replies = adapter(200);
    const inChannel = thread(CHANNEL);
    await replies.status(inChannel, 'turn-1', { state: 'thinking', step: 1 });
    await replies.status(inChannel, 'turn-1', { state: 'done' });
    expect(slack.calls.filter((call) => call.method === 'assistant.threads.setStatus' && call.args.channel_id === CHANNEL)).toEqual([]);
    expect(
      slack
        .messages(CHANNEL, inChannel.threadTs)
        .filter((message) => message.botId)
        .map((message) => message.text),
    ).toEqual([':white_check_mark: Done']);
  });
});
