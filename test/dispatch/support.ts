import { createServer, connect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode, type NativeConnection } from '@temporalio/worker';
import { APPROVAL_TOKEN_PURPOSE, slackConversationId, type InboundEvent } from '../../core/inbound-event.ts';
import { signToken } from '../../core/signed-token.ts';
import type { DispatchConfig } from '../../functions/dispatch/config.ts';
import type { SqsRecord } from '../../functions/dispatch/handler.ts';
import { sqsFifoId } from '../../functions/ingress/event-queue.ts';

export const APPROVAL_SECRET = 'test-approval-secret-51c2';
const STUB_WORKFLOW = fileURLToPath(new URL('./conversation-stub-workflow.ts', import.meta.url));

export function dispatchConfig(taskQueue: string, overrides: Partial<DispatchConfig> = {}): DispatchConfig {
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

let stubBundle: Promise<{ code: string }> | undefined;

/** A worker running the stub conversation workflow on `taskQueue`; shut it down after the file. */
export async function startStubWorker(connection: NativeConnection, taskQueue: string): Promise<{ stop(): Promise<void> }> {
  stubBundle ??= bundleWorkflowCode({ workflowsPath: STUB_WORKFLOW, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } });
  const worker = await Worker.create({ connection, taskQueue, workflowBundle: await stubBundle });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
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

export function slackApprovalEvent(conversationId: string, requestId: string, options: { secret?: string; tokenConversation?: string } = {}): InboundEvent {
  const token = signToken({ requestId, conversationId: options.tokenConversation ?? conversationId }, options.secret ?? APPROVAL_SECRET, { purpose: APPROVAL_TOKEN_PURPOSE });
  return {
    version: 1,
    id: `slack-approval:${requestId}:U0BOSS:approve:${Math.random()}`,
    source: 'slack',
    kind: 'approval',
    conversationId,
    receivedAt: new Date().toISOString(),
    user: { id: 'U0BOSS' },
    text: 'approved',
    slack: { teamId: 'T0TEAM', channelId: 'C0GENERAL' },
    approval: { requestId, decision: 'approve', approver: 'U0BOSS', token },
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
      attachments: [],
    },
  };
}

/** An SQS record as Lambda hands it over, group = conversation. */
export function sqsRecord(event: unknown, messageId: string = crypto.randomUUID()): SqsRecord {
  const conversationId = (event as { conversationId?: string }).conversationId ?? 'unknown';
  return { messageId, body: typeof event === 'string' ? event : JSON.stringify(event), attributes: { MessageGroupId: sqsFifoId(conversationId), ApproximateReceiveCount: '1' } };
}

/** A TCP port that refuses until `open()` forwards it to `target`: Temporal going away and coming back. */
export async function switchablePort(target: string, port: number): Promise<{ address: string; open(): Promise<void>; close(): Promise<void> }> {
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
