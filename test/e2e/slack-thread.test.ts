import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import type { Content } from '../../core/spec.ts';
import { APPROVAL_ACTION_IDS } from '../../events/inbound-event.ts';
import { createDispatchBatchHandler } from '../../functions/dispatch/dispatch-batch.ts';
import { pollQueue } from '../../local/poll-queue.ts';
import { createTemporalClientProvider } from '../../functions/dispatch/temporal-client.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { createSlackPoster } from '../../functions/slack/slack-post.ts';
import { silentLog } from '../../functions/shared/log.ts';
import { serveOnNode } from '../../local/node-server.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { dispatchConfig } from '../dispatch/support.ts';
import { APPROVAL_SECRET, createFifoQueue, form, slackConfig, slackPost, motoEventQueue, sqsClient } from '../../testkit/ingress.ts';
import { startMoto, type MotoServer } from '../../testkit/moto.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { appMentionEnvelope } from '../../local/slack-events.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';

const TEAM = 'T0TEAM';
const BOT = 'U0BOT';
const ANA = 'U0ANA';
const CHANNEL = 'C0GENERAL';
const BOT_TOKEN = 'xoxb-e2e-token';

const invoices: { customer: string; amount: number }[] = [];
const sendInvoice = defineTool({
  name: 'send_invoice',
  description: 'Sends an invoice to a customer.',
  input: z.object({ customer: z.string().describe('Who pays.'), amount: z.number().describe('How much, in euros.') }),
  approval: true,
  async handler(args) {
    invoices.push(args);
    return { sent: true };
  },
});

const assistant = defineAgent({ name: 'assistant', instructions: 'Be brief.', tools: [sendInvoice], limits: { maxSteps: 4 } });

/** The model: invoices go through the approval-gated tool; everything else is answered in Markdown. */
function respond(request: GeminiRequest) {
  const contents = request.body.contents as Content[];
  const last = contents.at(-1)!;
  if (last.parts.some((part) => part.functionResponse)) return answer('The invoice to **ACME** is sent.');
  const question =
    [...contents]
      .reverse()
      .find((content) => content.role === 'user')
      ?.parts.find((part) => part.text)?.text ?? '';
  if (question.includes('invoice')) return callTools({ name: 'send_invoice', args: { customer: 'ACME', amount: 1200 } });
  return answer(`The launch is on **Tuesday**; see [the plan](https://example.com/plan). You asked: ${question}`);
}

const mentionEnvelope = (eventId: string, ts: string, text: string, threadTs?: string) =>
  appMentionEnvelope(
    { teamId: TEAM, botUserId: BOT },
    { eventId, user: ANA, channel: CHANNEL, ts, text, ...(threadTs ? { threadTs } : {}) },
  );

describe.skipIf(noTemporal)('Slack thread end to end: ingress → SQS → dispatch → Temporal → worker → Slack', () => {
  const temporal = useTemporal();
  let moto: MotoServer;
  let sqs: SQSClient;
  let slack: SlackApiServer;
  let model: GeminiServer;
  let ingress: Server;
  let ingressUrl: string;
  const stopDispatch = new AbortController();
  let dispatching: Promise<void>;
  const temporalProvider = createTemporalClientProvider({ env: { TEMPORAL_ADDRESS: temporalAddress }, connectTimeoutMs: 2000 });

  beforeAll(async () => {
    moto = await startMoto();
    sqs = sqsClient(moto.endpoint);
    slack = await startSlackApiServer({ tokens: [BOT_TOKEN], botUserId: BOT });
    model = await startScriptedModel(respond);
    const queueUrl = await createFifoQueue(sqs, 'e2e-slack');
    const postRootMessage = createSlackPoster({ token: BOT_TOKEN, apiUrl: slack.url });
    ingress = await serveOnNode(
      createSlackApp({ config: slackConfig(queueUrl), queue: motoEventQueue(queueUrl), postRootMessage, log: silentLog }),
      0,
    );
    ingressUrl = `http://127.0.0.1:${(ingress.address() as AddressInfo).port}`;

    const taskQueue = temporal.taskQueue('e2e-slack');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [assistant],
      modelUrl: model.url,
      replyAdapters: {
        slack: createSlackReplyAdapter({
          client: createSlackWebClient({ token: BOT_TOKEN, apiUrl: slack.url }),
          approvalTokenSecret: APPROVAL_SECRET,
        }),
      },
    });
    const handler = createDispatchBatchHandler({ config: dispatchConfig(taskQueue), temporal: temporalProvider, log: silentLog });
    dispatching = pollQueue({ sqs, queueUrl, handler, signal: stopDispatch.signal, waitTimeSeconds: 1, log: silentLog });
  });
  afterAll(async () => {
    stopDispatch.abort();
    await dispatching?.catch(() => undefined);
    await temporalProvider.close();
    await new Promise((resolve) => ingress?.close(resolve));
    await slack?.close();
    await model?.close();
    sqs?.destroy();
    await moto?.stop();
  });

  const botMessages = (threadTs: string) => slack.messages(CHANNEL, threadTs).filter((message) => message.botId);
  const answers = (threadTs: string) => botMessages(threadTs).filter((message) => !message.text.startsWith(':'));

  async function postEvent(body: unknown, retry?: number) {
    const text = JSON.stringify(body);
    const response = await fetch(
      `${ingressUrl}/slack/events`,
      slackPost(text, retry ? { headers: { 'x-slack-retry-num': String(retry), 'x-slack-retry-reason': 'http_timeout' } } : {}),
    );
    expect(response.status).toBe(200);
  }

  it('answers a mention in its thread once, though Slack delivers the event three times', async () => {
    const rootTs = slack.addUserMessage({ channel: CHANNEL, user: ANA, text: `<@${BOT}> when is the launch?` });
    const envelope = mentionEnvelope('Ev0LAUNCH', rootTs, 'when is the launch?');
    await postEvent(envelope);
    await postEvent(envelope, 1);
    await postEvent(envelope, 2);

    await expect.poll(() => answers(rootTs).length, { timeout: 30_000, interval: 200 }).toBe(1);
    await expect
      .poll(() => botMessages(rootTs).find((message) => message.text.startsWith(':'))?.text, { timeout: 10_000 })
      .toBe(':white_check_mark: Done');
    expect(answers(rootTs)[0]!.text).toBe(
      'The launch is on *Tuesday*; see <https://example.com/plan|the plan>. You asked: when is the launch?',
    );

    // A second follow-up in the same thread is a second turn, answered in the same thread.
    const followTs = slack.addUserMessage({ channel: CHANNEL, user: ANA, text: 'and the venue?', threadTs: rootTs });
    await postEvent(mentionEnvelope('Ev0VENUE', followTs, 'and the venue?', rootTs));
    await expect.poll(() => answers(rootTs).length, { timeout: 30_000, interval: 200 }).toBe(2);
    expect(answers(rootTs)[1]!.text).toContain('You asked: and the venue?');

    // Time for any straggler (a redelivery, a retried activity) to show itself: none does.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(answers(rootTs)).toHaveLength(2);
    expect(botMessages(rootTs).filter((message) => message.text.startsWith(':'))).toHaveLength(2);
    expect(
      model.requests.filter(
        (request) =>
          JSON.stringify(request.body.contents).includes('when is the launch?') && !JSON.stringify(request.body.contents).includes('venue'),
      ),
    ).toHaveLength(1);
  });

  it('asks for approval with buttons; a click travels back through the ingress and the tool runs', async () => {
    const rootTs = slack.addUserMessage({ channel: CHANNEL, user: ANA, text: `<@${BOT}> invoice ACME` });
    await postEvent(mentionEnvelope('Ev0INVOICE', rootTs, 'invoice ACME'));

    await expect.poll(() => botMessages(rootTs).some((message) => message.blocks), { timeout: 30_000, interval: 200 }).toBe(true);
    const request = botMessages(rootTs).find((message) => message.blocks)!;
    const actions = (request.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find(
      (block) => block.type === 'actions',
    )!;
    const approve = actions.elements!.find((element) => element.action_id === APPROVAL_ACTION_IDS.approve)!;
    expect(invoices).toEqual([]);

    const payload = {
      type: 'block_actions',
      user: { id: ANA, username: 'ana', team_id: TEAM },
      team: { id: TEAM },
      channel: { id: CHANNEL },
      container: { type: 'message', channel_id: CHANNEL, message_ts: request.ts },
      message: { ts: request.ts, thread_ts: rootTs },
      actions: [{ action_id: APPROVAL_ACTION_IDS.approve, block_id: 'approval', value: approve.value, type: 'button' }],
    };
    const click = await fetch(`${ingressUrl}/slack/interactivity`, slackPost(form({ payload: JSON.stringify(payload) }), { form: true }));
    expect(click.status).toBe(200);

    await expect
      .poll(() => answers(rootTs).map((message) => message.text), { timeout: 30_000, interval: 200 })
      .toContain('The invoice to *ACME* is sent.');
    expect(invoices).toEqual([{ customer: 'ACME', amount: 1200 }]);

    // The request's message now says who approved, and has no buttons left to click.
    const shown = () => botMessages(rootTs).find((message) => message.ts === request.ts)!;
    await expect.poll(() => shown().text, { timeout: 10_000, interval: 200 }).toMatch(/^Approved: /);
    const blocks = shown().blocks as { type: string; elements?: { text?: string }[] }[];
    expect(blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(JSON.stringify(blocks)).toContain(`Approved by <@${ANA}>`);
  });

  it('answers a slash command under the root message the edge posts, and a reply in that thread continues the conversation', async () => {
    const command = form({
      team_id: TEAM,
      channel_id: CHANNEL,
      user_id: ANA,
      user_name: 'ana',
      command: '/agent',
      text: 'when is the party?',
      response_url: 'https://hooks.slack.com/commands/e2e',
      trigger_id: '77.77.e2e',
    });
    const response = await fetch(`${ingressUrl}/slack/commands`, slackPost(command, { form: true }));
    expect(response.status).toBe(200);
    const root = slack.messages(CHANNEL).at(-1)!;
    expect(root.text).toBe('ana asked with /agent: when is the party?');
    const replies = () => answers(root.ts).filter((message) => message.ts !== root.ts);

    await expect.poll(() => replies().length, { timeout: 30_000, interval: 200 }).toBe(1);
    expect(replies()[0]!.text).toContain('You asked: when is the party?');

    const followTs = slack.addUserMessage({ channel: CHANNEL, user: ANA, text: 'and who comes?', threadTs: root.ts });
    await postEvent(mentionEnvelope('Ev0PARTYWHO', followTs, 'and who comes?', root.ts));
    await expect.poll(() => replies().length, { timeout: 30_000, interval: 200 }).toBe(2);
    // One conversation: the second turn's model call saw the command's question.
    const last = JSON.stringify(model.requests.at(-1)!.body.contents);
    expect(last).toContain('when is the party?');
    expect(last).toContain('and who comes?');
  });
});
