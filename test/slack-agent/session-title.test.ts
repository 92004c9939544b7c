import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyChannel } from '../../core/conversation.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';

const TOKEN = 'xoxb-titles';
const TEAM = 'T0TEAM';
const DM = 'D0ANA';

let slack: SlackApiServer;

beforeAll(async () => {
  slack = await startSlackApiServer({ tokens: [TOKEN], appView: 'agent' });
});
afterAll(async () => {
  await slack?.close();
});

function adapter() {
  return createSlackReplyAdapter({
    client: createSlackWebClient({ token: TOKEN, apiUrl: slack.url }),
    approvalTokenSecret: 'secret',
    statusIntervalMs: 0,
  });
}

function thread(text: string) {
  const threadTs = slack.addUserMessage({ channel: DM, user: 'U0ANA', text });
  const channel: ReplyChannel = { kind: 'slack', teamId: TEAM, channelId: DM, threadTs };
  return { threadTs, channel };
}

const renames = (threadTs: string) =>
  slack.calls.filter((call) => call.method === 'agents.sessions.rename' && call.args.thread_ts === threadTs);

describe('an agent session’s title', () => {
  it('a session that exists untitled is renamed when the turn sets its title (Slack ignores setStatus’s title then)', async () => {
    const { threadTs, channel } = thread('why is billing slow?');
    const replies = adapter();
    // A status without a title creates the session first, untitled.
    await replies.status(channel, `slack:${TEAM}:${DM}:${threadTs}#1`, { state: 'tool', step: 1, tool: 'lookup' });
    expect(slack.agentSession(DM, threadTs)?.title).toBeUndefined();
    await replies.status(channel, `slack:${TEAM}:${DM}:${threadTs}#2`, { state: 'thinking', step: 1, title: 'why is billing slow?' });
    expect(slack.agentSession(DM, threadTs)?.title).toBe('why is billing slow?');
    expect(renames(threadTs).map((call) => [call.outcome, call.args.title])).toEqual([['ok', 'why is billing slow?']]);
  });

  it('a titled session keeps its title: no rename when setStatus created it with one, nor on a later turn', async () => {
    const { threadTs, channel } = thread('deploy billing');
    const replies = adapter();
    await replies.status(channel, `slack:${TEAM}:${DM}:${threadTs}#1`, { state: 'thinking', step: 1, title: 'deploy billing' });
    await replies.status(channel, `slack:${TEAM}:${DM}:${threadTs}#2`, { state: 'thinking', step: 1, title: 'and roll back payments' });
    expect(slack.agentSession(DM, threadTs)?.title).toBe('deploy billing');
    expect(renames(threadTs)).toEqual([]);
  });

  it('a refused rename leaves the session untitled and the status set', async () => {
    const { threadTs, channel } = thread('check the queue');
    const replies = adapter();
    await replies.status(channel, `slack:${TEAM}:${DM}:${threadTs}#1`, { state: 'tool', step: 1, tool: 'queue_depth' });
    slack.failNext('agents.sessions.rename', 'invalid_arguments');
    await replies.status(channel, `slack:${TEAM}:${DM}:${threadTs}#2`, { state: 'thinking', step: 1, title: 'check the queue' });
    expect(slack.agentSession(DM, threadTs)?.title).toBeUndefined();
    expect(slack.agentSession(DM, threadTs)?.statuses.map((entry) => entry.status)).toEqual(['processing', 'processing']);
  });
});
