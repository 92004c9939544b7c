import type { Client, WorkflowHandle } from '@temporalio/client';
import { expect } from 'vitest';
import { sendMessage } from '../../temporal-client/send-message.ts';
import {
  PENDING_APPROVALS_QUERY,
  TURNS_QUERY,
  type ConversationOptions,
  type IncomingMessage,
  type PendingApproval,
  type ReplyChannel,
  type TurnState,
  type TurnSummary,
} from '../../core/conversation.ts';
import type { Content } from '../../core/spec.ts';
import type { GeminiRequest } from '../../local/gemini-server.ts';

export function incoming(text: string, overrides: Partial<IncomingMessage> = {}): IncomingMessage {
  return {
    id: `event-${crypto.randomUUID()}`,
    text,
    user: { id: 'U-ASKER', name: 'Asker' },
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}

export interface ConversationDriver {
  conversationId: string;
  handle: WorkflowHandle;
  send(message: IncomingMessage): ReturnType<typeof sendMessage>;
  turns(): Promise<TurnSummary[]>;
  waitForTurn(turn: number, status?: TurnState): Promise<TurnSummary>;
  pendingApprovals(): Promise<PendingApproval[]>;
}

export function conversationDriver(
  client: Client,
  taskQueue: string,
  agent: string,
  options: { options?: ConversationOptions; approvers?: string[]; channel?: ReplyChannel } = {},
): ConversationDriver {
  const conversationId = `test:${crypto.randomUUID()}`;
  const handle = client.workflow.getHandle(conversationId);
  const turns = () => handle.query<TurnSummary[]>(TURNS_QUERY);
  return {
    conversationId,
    handle,
    send: (message) =>
      sendMessage(client, {
        conversationId,
        taskQueue,
        message,
        start: {
          agent,
          channel: options.channel ?? { kind: 'none' },
          ...(options.approvers ? { approvers: options.approvers } : {}),
          ...(options.options ? { options: options.options } : {}),
        },
      }),
    turns,
    async waitForTurn(turn, status = 'answered') {
      let found: TurnSummary | undefined;
      await expect
        .poll(
          async () => {
            found = (await turns()).find((summary) => summary.turn === turn);
            return found?.status;
          },
          { timeout: 20_000, interval: 100 },
        )
        .toBe(status);
      return found!;
    },
    pendingApprovals: () => handle.query<PendingApproval[]>(PENDING_APPROVALS_QUERY),
  };
}

/** The text of every user turn the model was shown in a request, oldest first. */
export function userTexts(request: GeminiRequest): string[] {
  return (request.body.contents as Content[])
    .filter((content) => content.role === 'user')
    .flatMap((content) => content.parts.flatMap((part) => (part.text === undefined ? [] : [part.text])));
}

/** The last user text of a request: which question the model is answering. */
export function lastUserText(request: GeminiRequest): string {
  return userTexts(request).at(-1) ?? '';
}
