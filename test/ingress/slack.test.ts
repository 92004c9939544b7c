import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_TOKEN_PURPOSE, inboundEventSchema, type InboundEvent } from '../../events/inbound-event.ts';
import { signToken } from '../../events/signed-token.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { silentLog } from '../../functions/shared/log.ts';
import { createSlackPoster } from '../../functions/slack/slack-post.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createMotoSecret, freePort, startMoto, type MotoServer } from '../../testkit/moto.ts';
import {
  APPROVAL_SECRET,
  SIGNING_SECRET,
  closedEndpoint,
  createFifoQueue,
  form,
  queueDepth,
  queuedMessages,
  slackConfig,
  slackPost,
  motoEventQueue,
  sqsClient,
} from '../../testkit/ingress.ts';

const TEAM = 'T0TEAM';
const BOT = 'U0BOT';
const ANA = 'U0ANA';
const GENERAL = 'C0GENERAL';
const DM = 'D0ANA';

function envelope(eventId: string, event: Record<string, unknown>) {
  return {
    token: 'legacy-verification-token',
    team_id: TEAM,
    api_app_id: 'A0APP',
    type: 'event_callback',
    event_id: eventId,
    event_time: 1_712_345_678,
    authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: BOT, is_bot: true, is_enterprise_install: false }],
    event,
  };
}

const mentionInChannel = envelope('Ev0MENTION', {
  type: 'app_mention',
  user: ANA,
  text: `<@${BOT}> summarise the launch thread`,
  ts: '1712345678.000100',
  channel: GENERAL,
  event_ts: '1712345678.000100',
});

const mentionInThread = envelope('Ev0THREAD', {
  type: 'app_mention',
  user: ANA,
  text: `<@${BOT}> and the risks?`,
  ts: '1712345999.000200',
  thread_ts: '1712345678.000100',
  channel: GENERAL,
  event_ts: '1712345999.000200',
});

// A mention in a DM arrives twice, as app_mention and as message.im, with different event ids.
const dmMention = envelope('Ev0DMMENTION', {
  type: 'app_mention',
  user: ANA,
  text: `<@${BOT}> what is on my calendar?`,
  ts: '1712346000.000300',
  channel: DM,
  event_ts: '1712346000.000300',
});
const dmMessageTwin = envelope('Ev0DMMESSAGE', {
  type: 'message',
  channel_type: 'im',
  user: ANA,
  text: `<@${BOT}> what is on my calendar?`,
  ts: '1712346000.000300',
  channel: DM,
  event_ts: '1712346000.000300',
});

const stopInThread = envelope('Ev0STOP', {
  type: 'message',
  channel_type: 'im',
  user: ANA,
  text: 'Stop',
  ts: '1712346100.000100',
  thread_ts: '1712346000.000300',
  channel: DM,
});

const ignored: [string, unknown][] = [
  [
    'another bot',
    envelope('Ev0BOT', {
      type: 'message',
      channel_type: 'im',
      subtype: 'bot_message',
      bot_id: 'B0OTHER',
      text: 'beep',
      ts: '1.1',
      channel: DM,
    }),
  ],
  [
    'a bot_id without subtype',
    envelope('Ev0BOTID', {
      type: 'message',
      channel_type: 'im',
      bot_id: 'B0OTHER',
      user: 'U0OTHERBOT',
      text: 'hi',
      ts: '1.2',
      channel: DM,
    }),
  ],
  [
    'our own bot user',
    envelope('Ev0SELF', { type: 'message', channel_type: 'im', user: BOT, text: 'Here is the summary', ts: '1.3', channel: DM }),
  ],
  [
    'an edit',
    envelope('Ev0EDIT', {
      type: 'message',
      channel_type: 'im',
      subtype: 'message_changed',
      message: { user: ANA, text: 'edited' },
      ts: '1.4',
      channel: DM,
    }),
  ],
  [
    'a deletion',
    envelope('Ev0DELETE', { type: 'message', channel_type: 'im', subtype: 'message_deleted', deleted_ts: '1.1', ts: '1.5', channel: DM }),
  ],
  [
    'a channel join',
    envelope('Ev0JOIN', { type: 'message', channel_type: 'channel', subtype: 'channel_join', user: ANA, ts: '1.6', channel: GENERAL }),
  ],
  [
    'a channel message (not subscribed)',
    envelope('Ev0CHANNEL', { type: 'message', channel_type: 'channel', user: ANA, text: 'lunch?', ts: '1.7', channel: GENERAL }),
  ],
  [
    'a reaction',
    envelope('Ev0REACTION', {
      type: 'reaction_added',
      user: ANA,
      reaction: 'eyes',
      item: { type: 'message', channel: GENERAL, ts: '1.1' },
    }),
  ],
  ['app_rate_limited', { token: 'x', type: 'app_rate_limited', team_id: TEAM, minute_rate_limited: 1518467820, api_app_id: 'A0APP' }],
];

let moto: MotoServer;
let sqs: SQSClient;

let slackApi: SlackApiServer;
const BOT_TOKEN = 'xoxb-edge-test';

beforeAll(async () => {
  moto = await startMoto();
  sqs = sqsClient(moto.endpoint);
  slackApi = await startSlackApiServer({ tokens: [BOT_TOKEN], teamId: TEAM, botUserId: BOT, channels: [GENERAL, DM] });
});
afterAll(async () => {
  sqs?.destroy();
  await slackApi?.close();
  await moto?.stop();
});

async function freshIngress(overrides: Parameters<typeof slackConfig>[1] = {}) {
  const queueUrl = await createFifoQueue(sqs);
  const config = slackConfig(queueUrl, overrides);
  const postRootMessage = createSlackPoster({ token: BOT_TOKEN, apiUrl: slackApi.url });
  const app = createSlackApp({ config, queue: motoEventQueue(queueUrl), postRootMessage, log: silentLog });
  return { app, queueUrl };
}

async function onlyEvent(queueUrl: string): Promise<{ event: InboundEvent; groupId?: string; deduplicationId?: string }> {
  const messages = await queuedMessages(sqs, queueUrl);
  expect(messages).toHaveLength(1);
  const [message] = messages;
  return { event: inboundEventSchema.parse(message?.body), groupId: message?.groupId, deduplicationId: message?.deduplicationId };
}

describe('Slack events', () => {
  it('queues a signed app_mention as an InboundEvent in its conversation', async () => {
    const { app, queueUrl } = await freshIngress();
    const response = await app.request('/slack/events', slackPost(JSON.stringify(mentionInChannel)));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ingress-outcome')).toBe('queued');
    const { event, groupId, deduplicationId } = await onlyEvent(queueUrl);
    expect(event).toMatchObject({
      version: 1,
      source: 'slack',
      kind: 'message',
      conversationId: `slack:${TEAM}:${GENERAL}:1712345678.000100`,
      agent: 'assistant',
      user: { id: ANA },
      text: 'summarise the launch thread',
      slack: { teamId: TEAM, channelId: GENERAL, threadTs: '1712345678.000100', ts: '1712345678.000100' },
    });
    expect(groupId).toBe(event.conversationId);
    expect(deduplicationId).toBe(event.id);
    expect(event.id).toBe(`slack-message:${TEAM}:${GENERAL}:1712345678.000100`);
  });

  it('puts a thread reply in the conversation of the thread root', async () => {
    const { app, queueUrl } = await freshIngress();
    expect((await app.request('/slack/events', slackPost(JSON.stringify(mentionInThread)))).status).toBe(200);
    const { event, groupId } = await onlyEvent(queueUrl);
    expect(event.conversationId).toBe(`slack:${TEAM}:${GENERAL}:1712345678.000100`);
    expect(groupId).toBe(event.conversationId);
    expect(event.slack).toMatchObject({ threadTs: '1712345678.000100', ts: '1712345999.000200' });
  });

  it('stores one message for a delivery, its retry and its message.im twin', async () => {
    const { app, queueUrl } = await freshIngress();
    const deliveries = [
      slackPost(JSON.stringify(dmMention)),
      slackPost(JSON.stringify(dmMention), { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } }),
      slackPost(JSON.stringify(dmMessageTwin)),
    ];
    for (const delivery of deliveries) {
      const response = await app.request('/slack/events', delivery);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ingress-outcome')).toBe('queued');
    }
    const { event } = await onlyEvent(queueUrl);
    expect(event.conversationId).toBe(`slack:${TEAM}:${DM}:1712346000.000300`);
    expect(event.text).toBe('what is on my calendar?');
  });

  it('answers url_verification with its challenge', async () => {
    const { app, queueUrl } = await freshIngress();
    const body = JSON.stringify({
      token: 'x',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    });
    const response = await app.request('/slack/events', slackPost(body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  });

  it.each(ignored)('acknowledges %s with 200 and queues nothing', async (_name, body) => {
    const { app, queueUrl } = await freshIngress();
    const response = await app.request('/slack/events', slackPost(JSON.stringify(body)));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ingress-outcome')).toMatch(/^dropped: /);
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  });

  it('drops the bot user named in SLACK_BOT_USER_ID even without authorizations', async () => {
    const { app, queueUrl } = await freshIngress({ SLACK_BOT_USER_ID: 'U0CONFIGBOT' });
    const { authorizations: _, ...bare } = envelope('Ev0CFG', {
      type: 'message',
      channel_type: 'im',
      user: 'U0CONFIGBOT',
      text: 'hi',
      ts: '2.1',
      channel: DM,
    });
    const response = await app.request('/slack/events', slackPost(JSON.stringify(bare)));
    expect(response.headers.get('x-ingress-outcome')).toBe('dropped: message from a bot');
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  });

  it('turns a message that says only "stop" into a stop request', async () => {
    const { app, queueUrl } = await freshIngress();
    await app.request('/slack/events', slackPost(JSON.stringify(stopInThread)));
    const { event } = await onlyEvent(queueUrl);
    expect(event).toMatchObject({ kind: 'stop', conversationId: `slack:${TEAM}:${DM}:1712346000.000300` });
  });

  it('answers 503 and claims nothing when SQS is down', async () => {
    const endpoint = await closedEndpoint();
    const queueUrl = `${endpoint}/123456789012/ingress.fifo`;
    const app = createSlackApp({ config: slackConfig(queueUrl), queue: motoEventQueue(queueUrl), log: silentLog });
    const started = Date.now();
    const response = await app.request('/slack/events', slackPost(JSON.stringify(mentionInChannel)));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ok: false, error: 'queue unavailable; the event was not accepted, retry later' });
    expect(response.headers.get('x-ingress-outcome')).toBeNull();
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('Slack interactivity and commands', () => {
  const approvalClick = (value: string, actionId = 'approval:approve') => ({
    type: 'block_actions',
    user: { id: ANA, username: 'ana', name: 'ana', team_id: TEAM },
    api_app_id: 'A0APP',
    team: { id: TEAM, domain: 'example' },
    channel: { id: GENERAL, name: 'general' },
    container: { type: 'message', message_ts: '1712345700.000100', channel_id: GENERAL },
    message: { type: 'message', ts: '1712345700.000100', thread_ts: '1712345678.000100', text: 'May I send the email?' },
    trigger_id: '1234.5678.abcd',
    response_url: 'https://hooks.slack.com/actions/T0TEAM/1/abc',
    actions: [{ type: 'button', action_id: actionId, block_id: 'approval', value, action_ts: '1712345701.000000' }],
  });

  it("turns an approve click with a valid token into an approval event for the token's conversation", async () => {
    const { app, queueUrl } = await freshIngress();
    const conversationId = `slack:${TEAM}:${GENERAL}:1712345678.000100`;
    const token = signToken({ requestId: 'req-42', conversationId }, APPROVAL_SECRET, { purpose: APPROVAL_TOKEN_PURPOSE });
    const response = await app.request(
      '/slack/interactivity',
      slackPost(form({ payload: JSON.stringify(approvalClick(token)) }), { form: true }),
    );
    expect(response.status).toBe(200);
    const { event, groupId } = await onlyEvent(queueUrl);
    expect(event).toMatchObject({
      kind: 'approval',
      conversationId,
      user: { id: ANA, name: 'ana' },
      approval: { requestId: 'req-42', decision: 'approve', approver: ANA, token },
      slack: { teamId: TEAM, channelId: GENERAL, responseUrl: 'https://hooks.slack.com/actions/T0TEAM/1/abc' },
    });
    expect(groupId).toBe(conversationId);
  });

  it('acknowledges other block actions and queues nothing', async () => {
    const { app, queueUrl } = await freshIngress();
    const response = await app.request(
      '/slack/interactivity',
      slackPost(form({ payload: JSON.stringify(approvalClick('x', 'menu:open')) }), { form: true }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ingress-outcome')).toBe('dropped: block action is not an approval or feedback button');
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  });

  it('starts /agent <text> under a root message it posts in the channel: the conversation is that thread', async () => {
    const { app, queueUrl } = await freshIngress();
    const body = form({
      token: 'x',
      team_id: TEAM,
      team_domain: 'example',
      channel_id: GENERAL,
      channel_name: 'general',
      user_id: ANA,
      user_name: 'ana',
      command: '/agent',
      text: 'draft the release notes for @here <!channel>',
      api_app_id: 'A0APP',
      response_url: 'https://hooks.slack.com/commands/T0TEAM/2/def',
      trigger_id: '9999.8888.ffff',
    });
    const response = await app.request('/slack/commands', slackPost(body, { form: true }));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    const root = slackApi.messages(GENERAL).at(-1)!;
    // The root quotes the request as text: it mentions nobody.
    expect(root.text).toBe('ana asked with /agent: draft the release notes for @\u2060here &lt;!channel&gt;');
    const { event } = await onlyEvent(queueUrl);
    expect(event).toMatchObject({
      kind: 'message',
      id: `slack-command:${TEAM}:9999.8888.ffff`,
      conversationId: `slack:${TEAM}:${GENERAL}:${root.ts}`,
      text: 'draft the release notes for @here <!channel>',
      user: { id: ANA, name: 'ana' },
      slack: { threadTs: root.ts, ts: root.ts, responseUrl: 'https://hooks.slack.com/commands/T0TEAM/2/def', triggerId: '9999.8888.ffff' },
    });
  });

  it('answers a command in a channel it cannot post in, or without a bot token, and queues nothing', async () => {
    const { app, queueUrl } = await freshIngress();
    const elsewhere = form({
      team_id: TEAM,
      channel_id: 'C0PRIVATE',
      user_id: ANA,
      command: '/agent',
      text: 'hi',
      response_url: 'https://hooks.slack.com/c/1',
      trigger_id: '7.7.7',
    });
    const response = await app.request('/slack/commands', slackPost(elsewhere, { form: true }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { text: string }).text).toMatch(/^I cannot post in this conversation/);
    const noToken = createSlackApp({ config: slackConfig(queueUrl), queue: motoEventQueue(queueUrl), log: silentLog });
    const withoutToken = await noToken.request('/slack/commands', slackPost(elsewhere, { form: true }));
    expect(((await withoutToken.json()) as { text: string }).text).toBe('Commands are not set up here; mention me in a message instead.');
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  });

  it('answers ssl_check and an empty command without queueing', async () => {
    const { app, queueUrl } = await freshIngress();
    const ssl = await app.request('/slack/commands', slackPost(form({ ssl_check: '1', token: 'x' }), { form: true }));
    expect(ssl.status).toBe(200);
    const empty = await app.request(
      '/slack/commands',
      slackPost(
        form({
          team_id: TEAM,
          channel_id: GENERAL,
          user_id: ANA,
          command: '/agent',
          text: ' ',
          response_url: 'https://hooks.slack.com/commands/x',
          trigger_id: '1.2.3',
        }),
        { form: true },
      ),
    );
    expect(await empty.json()).toEqual({ response_type: 'ephemeral', text: 'Usage: /agent <what you want the agent to do>' });
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  });
});

describe('the local runner', () => {
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('serves the same app over real HTTP and queues a signed mention', async () => {
    const queueUrl = await createFifoQueue(sqs, 'local');
    const port = await freePort();
    child = spawn(process.execPath, ['local/slack-edge.ts'], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        APPROVAL_TOKEN_SECRET: APPROVAL_SECRET,
        INGRESS_QUEUE_URL: queueUrl,
        AWS_ENDPOINT_URL_SQS: moto.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    const logged: Record<string, unknown>[] = [];
    const listening = new Promise<void>((resolve, reject) => {
      child!.once('exit', (code) => reject(new Error(`local runner exited with ${code}`)));
      lines.on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logged.push(entry);
        if (entry.msg === 'ingress listening') resolve();
      });
    });
    await listening;
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await health.json()).toEqual({ ok: true });
    const response = await fetch(`http://127.0.0.1:${port}/slack/events`, slackPost(JSON.stringify(mentionInChannel)));
    expect(response.status).toBe(200);
    const { event, groupId } = await onlyEvent(queueUrl);
    expect(event.conversationId).toBe(`slack:${TEAM}:${GENERAL}:1712345678.000100`);
    expect(groupId).toBe(event.conversationId);
    expect(logged.some((entry) => entry.msg === 'queued' && entry.id === event.id)).toBe(true);
  });
});

describe('the Lambda entry', () => {
  it('verifies a base64-encoded Function URL body and queues the command', async () => {
    const queueUrl = await createFifoQueue(sqs, 'lambda');
    // In AWS the function reads its secrets from Secrets Manager at cold start; its configuration names them.
    Object.assign(process.env, {
      SLACK_SIGNING_SECRET_ARN: await createMotoSecret(moto.endpoint, SIGNING_SECRET),
      APPROVAL_TOKEN_SECRET_ARN: await createMotoSecret(moto.endpoint, APPROVAL_SECRET),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
      INGRESS_QUEUE_URL: queueUrl,
      AWS_ENDPOINT_URL_SQS: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      // The bot token posts the command's root message; it is a secret too.
      SLACK_BOT_TOKEN_ARN: await createMotoSecret(moto.endpoint, BOT_TOKEN),
      SLACK_API_URL: slackApi.url,
    });
    const { handler } = await import('../../functions/slack/handler.ts');
    const body = form({
      team_id: TEAM,
      channel_id: GENERAL,
      user_id: ANA,
      command: '/agent',
      text: 'hello from a Function URL',
      response_url: 'https://hooks.slack.com/commands/x',
      trigger_id: '42.42.lambda',
    });
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      host: 'abc.lambda-url.us-east-1.on.aws',
      ...(slackPost(body, { form: true }).headers as Record<string, string>),
    };
    const functionUrlEvent = {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/slack/commands',
      rawQueryString: '',
      headers,
      requestContext: {
        // A public Function URL (auth type NONE): no authentication, an empty authorizer.
        authentication: null,
        authorizer: {},
        accountId: 'anonymous',
        apiId: 'abc',
        domainName: 'abc.lambda-url.us-east-1.on.aws',
        domainPrefix: 'abc',
        requestId: 'req-1',
        routeKey: '$default',
        stage: '$default',
        time: '08/Apr/2024:10:00:00 +0000',
        timeEpoch: 1_712_570_400_000,
        http: { method: 'POST', path: '/slack/commands', protocol: 'HTTP/1.1', sourceIp: '3.3.3.3', userAgent: 'Slackbot 1.0' },
      },
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
    };
    const result = await handler(functionUrlEvent);
    expect(result.statusCode).toBe(200);
    const { event } = await onlyEvent(queueUrl);
    expect(event).toMatchObject({
      text: 'hello from a Function URL',
      conversationId: `slack:${TEAM}:${GENERAL}:${slackApi.messages(GENERAL).at(-1)!.ts}`,
    });
    const forged = await handler({ ...functionUrlEvent, body: Buffer.from(body.replace('hello', 'HELLO')).toString('base64') });
    expect(forged.statusCode).toBe(401);
  });
});
