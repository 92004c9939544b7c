import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Client } from '@temporalio/client';
import { expect } from 'vitest';
import * as z from 'zod';
import { TURNS_QUERY, type ReplyChannel, type TurnState, type TurnSummary } from '../../core/conversation.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import type { Content } from '../../core/spec.ts';
import { APPROVAL_TOKEN_PURPOSE, slackConversationId, type InboundEvent } from '../../events/inbound-event.ts';
import { signToken } from '../../events/signed-token.ts';
import type { DispatchSettings } from '../../config/dispatcher-settings.ts';
import type { SqsRecord } from '../../functions/shared/sqs-batch.ts';
import { sqsFifoId } from '../../functions/shared/event-queue.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import type { ReplyAdapter } from '../../worker/replies/reply-channel.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import type { TemporalTestContext } from '../../testkit/temporal.ts';
import { APPROVAL_SECRET } from '../../testkit/ingress.ts';
import type { DataConverter } from '@temporalio/common';

export { APPROVAL_SECRET };

export function dispatchConfig(taskQueue: string, overrides: Partial<DispatchSettings> = {}): DispatchSettings {
  return {
    APPROVAL_TOKEN_SECRET: APPROVAL_SECRET,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_SECRET_ARN: undefined,
    TEMPORAL_CONNECT_TIMEOUT_MS: 2000,
    DISPATCH_UPDATE_TIMEOUT_MS: 15_000,
    DISPATCH_DEFAULT_AGENT: 'assistant',
    DISPATCH_AGENTS: [],
    EMAIL_AGENT_DOMAIN: undefined,
    ...overrides,
  };
}

/** Tools of the test agent: an invoice that needs approval, and a rollout that waits until stopped. */
export const sentInvoices: { customer: string; amount: number }[] = [];
const sendInvoice = defineTool({
  name: 'send_invoice',
  description: 'Sends an invoice.',
  input: z.object({ customer: z.string().describe('Who pays.'), amount: z.number().describe('Euros.') }),
  approval: true,
  async handler(args) {
    sentInvoices.push(args);
    return { sent: true };
  },
});
const waitForRollout = defineTool({
  name: 'wait_for_rollout',
  description: 'Waits until a rollout finishes.',
  input: z.object({ rollout: z.string().describe('Rollout id.') }),
  timeout: '1 minute',
  async handler(_args, { signal }) {
    await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
  },
});

export const testAssistant = defineAgent({
  name: 'assistant',
  instructions: 'Be brief.',
  tools: [sendInvoice, waitForRollout],
  limits: { maxSteps: 4 },
});

/** The scripted model: "invoice" asks for the approval-gated tool, "rollout" blocks in a tool, anything else is echoed. */
export function respond(request: GeminiRequest) {
  const contents = request.body.contents as Content[];
  const response = contents.at(-1)!.parts.find((part) => part.functionResponse)?.functionResponse;
  if (response) return answer(`Done: ${response.name}.`);
  const question =
    [...contents]
      .reverse()
      .flatMap((content) =>
        content.role === 'user' ? content.parts.flatMap((part) => (part.text === undefined ? [] : [part.text])) : [],
      )[0] ?? '';
  if (question.includes('invoice')) return callTools({ name: 'send_invoice', args: { customer: 'ACME', amount: 1200 } });
  if (question.includes('rollout')) return callTools({ name: 'wait_for_rollout', args: { rollout: 'r-1' } });
  return answer(`You said: ${question}`);
}

export interface RecordedReply {
  method: 'status' | 'answer' | 'requestApproval';
  channel: ReplyChannel;
  key?: string;
  text?: string;
}

/** A reply adapter that keeps what it is asked to send: the test's peer of Slack and SES. */
export function recordingReplies(): { adapter: ReplyAdapter; replies: RecordedReply[] } {
  const replies: RecordedReply[] = [];
  return {
    replies,
    adapter: {
      async status(channel, key) {
        replies.push({ method: 'status', channel, key });
      },
      async answer(channel, key, text) {
        replies.push({ method: 'answer', channel, key, text });
      },
      async requestApproval(channel) {
        replies.push({ method: 'requestApproval', channel });
      },
    },
  };
}

/** The real conversation workflow on `taskQueue`, with the scripted model and recording replies for Slack and email. */
export async function startConversationWorker(
  temporal: TemporalTestContext,
  taskQueue: string,
  options: { dataConverter?: DataConverter } = {},
): Promise<{ model: GeminiServer; replies: RecordedReply[] }> {
  const model = await startScriptedModel(respond);
  const { adapter, replies } = recordingReplies();
  await temporal.startWorker({
    taskQueue,
    tools: [],
    agents: [testAssistant],
    modelUrl: model.url,
    replyAdapters: { slack: adapter, email: adapter },
    ...options,
  });
  return { model, replies };
}

/** The turns of a conversation, once `turn` has reached `status`. */
export async function waitForTurn(
  client: Client,
  conversationId: string,
  turn: number,
  status: TurnState = 'answered',
): Promise<TurnSummary[]> {
  let turns: TurnSummary[] = [];
  await expect
    .poll(
      async () => {
        turns = await client.workflow.getHandle(conversationId).query<TurnSummary[]>(TURNS_QUERY);
        return turns.find((summary) => summary.turn === turn)?.status;
      },
      { timeout: 20_000, interval: 100 },
    )
    .toBe(status);
  return turns;
}

let counter = 0;
/** A Slack ts no other test uses. */
export function uniqueTs(): string {
  counter += 1;
  return `${1_712_000_000 + Math.floor(Math.random() * 10_000_000)}.${String(counter).padStart(6, '0')}`;
}

export function slackMessageEvent(options: { threadTs?: string; ts?: string; text?: string; agent?: string } = {}): InboundEvent {
  const ts = options.ts ?? uniqueTs();
  const threadTs = options.threadTs ?? ts;
  return {
    version: 1,
    id: `slack-message:T0TEAM:C0GENERAL:${ts}`,
    source: 'slack',
    kind: 'message',
    conversationId: slackConversationId('T0TEAM', 'C0GENERAL', threadTs),
    ...(options.agent ? { agent: options.agent } : {}),
    receivedAt: new Date().toISOString(),
    user: { id: 'U0ANA' },
    text: options.text ?? 'summarise the launch thread',
    slack: { teamId: 'T0TEAM', channelId: 'C0GENERAL', threadTs, ts },
  };
}

export function slackApprovalEvent(
  conversationId: string,
  requestId: string,
  options: { secret?: string; tokenConversation?: string; approver?: string; decision?: 'approve' | 'deny' } = {},
): InboundEvent {
  const token = signToken({ requestId, conversationId: options.tokenConversation ?? conversationId }, options.secret ?? APPROVAL_SECRET, {
    purpose: APPROVAL_TOKEN_PURPOSE,
  });
  const approver = options.approver ?? 'U0ANA';
  const decision = options.decision ?? 'approve';
  return {
    version: 1,
    id: `slack-approval:${requestId}:${approver}:${decision}:${crypto.randomUUID()}`,
    source: 'slack',
    kind: 'approval',
    conversationId,
    receivedAt: new Date().toISOString(),
    user: { id: approver },
    text: decision === 'approve' ? 'approved' : 'denied',
    slack: { teamId: 'T0TEAM', channelId: 'C0GENERAL' },
    approval: { requestId, decision, approver, token },
  };
}

export function emailMessageEvent(options: { messageId: string; root?: string; text?: string; subject?: string }): InboundEvent {
  const root = options.root ?? options.messageId;
  return {
    version: 1,
    id: `email-message:${options.messageId}`,
    source: 'email',
    kind: 'message',
    conversationId: `email:${root}`,
    agent: 'assistant',
    receivedAt: new Date().toISOString(),
    user: { id: 'ana@example.com', email: 'ana@example.com', name: 'Ana' },
    text: options.text ?? 'What is the launch date?',
    email: {
      messageId: options.messageId,
      ...(root !== options.messageId ? { inReplyTo: root } : {}),
      references: root !== options.messageId ? [root] : [],
      subject: options.subject ?? 'Launch',
      from: 'ana@example.com',
      to: ['assistant@agents.example.com'],
      agentAddress: 'assistant@agents.example.com',
      attachments: [],
    },
  };
}

/** An SQS record as Lambda hands it over, group = conversation. */
export function sqsRecord(event: unknown, messageId: string = crypto.randomUUID()): SqsRecord {
  const conversationId = (event as { conversationId?: string }).conversationId ?? 'unknown';
  return {
    messageId,
    body: typeof event === 'string' ? event : JSON.stringify(event),
    attributes: { MessageGroupId: sqsFifoId(conversationId), ApproximateReceiveCount: '1' },
  };
}

/** A TCP port that refuses until `open()` forwards it to `target`: Temporal going away and coming back. */
export async function switchablePort(
  target: string,
  port: number,
): Promise<{ address: string; open(): Promise<void>; close(): Promise<void> }> {
  const [host, targetPort] = target.split(':') as [string, string];
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    address: `127.0.0.1:${port}`,
    open: () =>
      new Promise((resolve, reject) => {
        server = createServer((client) => {
          const upstream = connect(Number(targetPort), host === 'localhost' ? '127.0.0.1' : host);
          for (const socket of [client, upstream]) {
            sockets.add(socket);
            socket.on('close', () => sockets.delete(socket));
            socket.on('error', () => undefined);
          }
          client.pipe(upstream).pipe(client);
        });
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      }),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        if (!server) return resolve();
        server.close(() => resolve());
      }),
  };
}
