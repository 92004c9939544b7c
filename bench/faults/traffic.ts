import { readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import PostalMime from 'postal-mime';
import { APPROVAL_ACTION_IDS, emailConversationId, slackConversationId } from '../../events/inbound-event.ts';
import type { SlackStoredMessage } from '../../local/slack-api-server.ts';
import { mime, receipt, sesRecord, AGENT_ADDRESS } from '../../testkit/email-fixtures.ts';
import { form, slackPost } from '../../testkit/ingress.ts';
import type { SentMessage } from './count.ts';
import { answeredMarker, ipOf, markerName } from './script.ts';
import { appMentionEnvelope } from '../../local/slack-events.ts';
import { BOT, CHANNEL, INBOUND_BUCKET, PERSON, TEAM, type FaultStack } from './stack.ts';

/** Slack's retries of an event the edge did not acknowledge, compressed (Slack: at once, 1 min, 5 min). */
export const SLACK_RETRY_DELAYS_MS = [2000, 20_000, 60_000];
/** Slack gives up on a request after 3 s and retries it (`http_timeout`). */
const SLACK_REQUEST_TIMEOUT_MS = 3000;
/**
 * SQS redelivers an email notification the email edge failed after its visibility timeout
 * (the CDK stack: six times the function's timeout, minutes), compressed here; a dead letter
 * after 5 receives.
 */
const EMAIL_REDELIVERY_MS = 15_000;
const EMAIL_MAX_RECEIVES = 5;

export type MessageKind = 'lookup' | 'expense';

export interface PlannedMessage extends SentMessage {
  kind: MessageKind;
  /** The conversation's workflow id, once known. */
  conversationId?: string;
  /** Slack: the thread's root ts. */
  rootTs?: string;
  /** Deliveries to the edge: Slack's first request and its retries, or SQS's receives of the email notification. */
  edgeAttempts: number;
}

export interface Traffic {
  /** Markers of the next `count` messages, every `emailEvery`-th an email, the rest Slack (expenses where asked). */
  plan(count: number, options?: { emailEvery?: number; expenseAt?: number[] }): PlannedMessage[];
  /** Sends the plan, one message every `intervalMs`; resolves when every send (with its retries) is over. */
  send(plan: PlannedMessage[], intervalMs: number): Promise<void>;
  /** Answer arrival times per marker, Slack's and SES's together. */
  answers(): Map<string, number[]>;
  /** Reads the replies SES (moto) has sent since the last call. */
  pollEmail(): Promise<void>;
  /** Executions of each marker's tool call, from the IP service's log and the expenses file. */
  toolExecutions(marker: string, kind: MessageKind): number;
  /** Called by the stack for each Slack message added or edited: answers and approval requests. */
  onSlackChange(message: SlackStoredMessage): void;
  /** How long the person takes to click Approve after the request appears. @default 1000 ms */
  approveDelayMs: number;
}

export function createTraffic(stack: FaultStack, log: (line: string) => void): Traffic {
  let sequence = 0;
  const slackAnswers = new Map<string, Map<string, number>>();
  const emailAnswers = new Map<string, number[]>();
  const approvals = new Set<string>();
  let emailsSeen = 0;
  const byThread = new Map<string, PlannedMessage>();

  async function postToEdge(path: string, body: string, formEncoded: boolean, retry?: { number: number; reason: string }): Promise<number> {
    const init = slackPost(body, {
      form: formEncoded,
      ...(retry ? { headers: { 'x-slack-retry-num': String(retry.number), 'x-slack-retry-reason': retry.reason } } : {}),
    });
    try {
      const response = await fetch(`${stack.edgeUrl}${path}`, { ...init, signal: AbortSignal.timeout(SLACK_REQUEST_TIMEOUT_MS) });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  async function sendSlack(message: PlannedMessage): Promise<void> {
    const question =
      message.kind === 'expense'
        ? `${message.marker} please file an expense claim of 250 EUR for a monitor`
        : `${message.marker} where is ${ipOf(message.marker)}?`;
    const ts = stack.slack.addUserMessage({ channel: CHANNEL, user: PERSON, text: `<@${BOT}> ${question}` });
    message.rootTs = ts;
    message.conversationId = slackConversationId(TEAM, CHANNEL, ts);
    byThread.set(ts, message);
    const envelope = JSON.stringify(
      appMentionEnvelope(
        { teamId: TEAM, botUserId: BOT, appId: 'A0FAULTS' },
        { eventId: `Ev${message.marker}`, user: PERSON, channel: CHANNEL, ts, text: question },
      ),
    );
    let reason = '';
    for (let attempt = 0; attempt <= SLACK_RETRY_DELAYS_MS.length; attempt++) {
      if (attempt > 0) await sleep(SLACK_RETRY_DELAYS_MS[attempt - 1]!);
      message.edgeAttempts += 1;
      const status = await postToEdge('/slack/events', envelope, false, attempt > 0 ? { number: attempt, reason } : undefined);
      if (status >= 200 && status < 300) {
        message.acceptedAt ??= Date.now();
        return;
      }
      reason = status === 0 ? 'http_timeout' : 'http_error';
    }
    log(`${message.marker}: the edge never acknowledged it (Slack gave up after ${SLACK_RETRY_DELAYS_MS.length} retries)`);
  }

  async function sendEmail(message: PlannedMessage): Promise<void> {
    const messageId = `<${message.marker}-${crypto.randomUUID()}@mail.example.com>`;
    message.conversationId = emailConversationId(messageId);
    const raw = mime({ messageId, subject: `Where is it? ${message.marker}`, body: `${message.marker} where is ${ipOf(message.marker)}?` });
    const key = `inbound/${message.marker}`;
    await stack.s3.send(new PutObjectCommand({ Bucket: INBOUND_BUCKET, Key: key, Body: raw }));
    const record = sesRecord({ bucket: INBOUND_BUCKET, key, raw, receipt: receipt({ recipients: [AGENT_ADDRESS] }) });
    for (let receive = 1; receive <= EMAIL_MAX_RECEIVES; receive++) {
      message.edgeAttempts += 1;
      const result = await stack
        .receiveEmail({ Records: [{ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: String(receive) } }] })
        .catch(() => ({ batchItemFailures: [{ itemIdentifier: record.messageId }] }));
      if (result.batchItemFailures.length === 0) {
        message.acceptedAt ??= Date.now();
        return;
      }
      await sleep(EMAIL_REDELIVERY_MS);
    }
    log(`${message.marker}: the email edge failed it ${EMAIL_MAX_RECEIVES} times; it would be a dead letter`);
  }

  async function approve(message: SlackStoredMessage): Promise<void> {
    const actions = (message.blocks as { type: string; elements?: { action_id: string; value: string }[] }[] | undefined)?.find(
      (block) => block.type === 'actions',
    );
    const button = actions?.elements?.find((element) => element.action_id === APPROVAL_ACTION_IDS.approve);
    if (!button) return;
    const payload = {
      type: 'block_actions',
      user: { id: PERSON, username: 'ana', team_id: TEAM },
      team: { id: TEAM },
      channel: { id: message.channel },
      container: { type: 'message', channel_id: message.channel, message_ts: message.ts },
      message: { ts: message.ts, thread_ts: message.threadTs },
      actions: [{ action_id: APPROVAL_ACTION_IDS.approve, block_id: 'approval', value: button.value, type: 'button' }],
    };
    // A person whose click fails clicks again.
    for (let click = 0; click < 12; click++) {
      const status = await postToEdge('/slack/interactivity', form({ payload: JSON.stringify(payload) }), true);
      if (status >= 200 && status < 300) return;
      await sleep(5000);
    }
    log(`approval in ${message.threadTs}: every click was refused`);
  }

  const traffic: Traffic = {
    approveDelayMs: 1000,
    plan(count, options = {}) {
      const emailEvery = options.emailEvery ?? 4;
      return Array.from({ length: count }, (_, index) => {
        const marker = markerName(++sequence);
        const channel = emailEvery > 0 && index % emailEvery === emailEvery - 1 ? 'email' : 'slack';
        const kind: MessageKind = channel === 'slack' && options.expenseAt?.includes(index) ? 'expense' : 'lookup';
        return { marker, channel, kind, sentAt: 0, edgeAttempts: 0 };
      });
    },
    async send(plan, intervalMs) {
      const sends: Promise<void>[] = [];
      for (const [index, message] of plan.entries()) {
        if (index > 0) await sleep(intervalMs);
        message.sentAt = Date.now();
        sends.push(message.channel === 'slack' ? sendSlack(message) : sendEmail(message));
      }
      await Promise.all(sends);
    },
    answers() {
      const all = new Map<string, number[]>();
      for (const [marker, byTs] of slackAnswers) all.set(marker, [...byTs.values()]);
      for (const [marker, times] of emailAnswers) all.set(marker, [...(all.get(marker) ?? []), ...times]);
      return all;
    },
    async pollEmail() {
      const data = (await (await fetch(`${stack.moto.endpoint}/moto-api/data.json`)).json()) as {
        ses?: { RawMessage?: { raw_data: string }[] };
      };
      const sent = data.ses?.RawMessage ?? [];
      for (const message of sent.slice(emailsSeen)) {
        const parsed = await PostalMime.parse(message.raw_data);
        const marker = answeredMarker(parsed.text ?? '');
        if (marker) emailAnswers.set(marker, [...(emailAnswers.get(marker) ?? []), Date.now()]);
      }
      emailsSeen = sent.length;
    },
    toolExecutions(marker, kind) {
      if (kind === 'lookup') return stack.toolRequests.get(ipOf(marker)) ?? 0;
      let lines: string[];
      try {
        lines = readFileSync(stack.expensesFile, 'utf8').split('\n');
      } catch {
        return 0;
      }
      return lines.filter((line) => line.includes(`Monitor ${marker}"`)).length;
    },
    onSlackChange(message) {
      if (!message.botId) return;
      const marker = answeredMarker(message.text);
      if (marker) {
        const byTs = slackAnswers.get(marker) ?? new Map<string, number>();
        if (!byTs.has(message.ts)) byTs.set(message.ts, Date.now());
        slackAnswers.set(marker, byTs);
      }
      const asksApproval = JSON.stringify(message.blocks ?? []).includes(APPROVAL_ACTION_IDS.approve);
      if (asksApproval && message.threadTs && byThread.has(message.threadTs) && !approvals.has(message.ts)) {
        approvals.add(message.ts);
        setTimeout(() => void approve(message), traffic.approveDelayMs);
      }
    },
  };
  return traffic;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
