import type { ReplyChannel } from '../../core/conversation.ts';
import type { ApprovalRequest, ReplyAdapter, TurnStatus } from './reply-channel.ts';
import { addNewest } from '../../core/bounded.ts';

export type TerminalReply =
  | { kind: 'status'; key: string; status: TurnStatus }
  | { kind: 'answer'; key: string; text: string }
  | { kind: 'approval'; request: ApprovalRequest };

export interface TerminalReplies {
  /** The adapter a worker in the chat's own process registers for `terminal` channels. */
  adapter: ReplyAdapter;
  /** Hands every later reply of `session` to `listener`; returns the way to stop. */
  subscribe(session: string, listener: (reply: TerminalReply) => void): () => void;
}

/** Keys remembered so a retried activity does not show an answer or a question twice. */
const MAX_KEYS_REMEMBERED = 1_000;

/**
 * Replies for the terminal chat: the worker runs in the chat's process (`npm start`), so a
 * reply is a call to the chat's listener. The chat answers an approval request by sending
 * the `decideApproval` update, like any other channel's person would.
 */
export function createTerminalReplies(): TerminalReplies {
  const listeners = new Map<string, Set<(reply: TerminalReply) => void>>();
  const delivered = new Set<string>();

  const deliver = (channel: ReplyChannel, reply: TerminalReply, onceKey?: string) => {
    if (channel.kind !== 'terminal') throw new TypeError(`The terminal adapter got a ${channel.kind} channel.`);
    if (onceKey !== undefined) {
      if (delivered.has(onceKey)) return;
      addNewest(delivered, onceKey, MAX_KEYS_REMEMBERED);
    }
    for (const listener of listeners.get(channel.session) ?? []) listener(reply);
  };

  return {
    adapter: {
      async status(channel, key, status) {
        deliver(channel, { kind: 'status', key, status });
      },
      async answer(channel, key, text) {
        deliver(channel, { kind: 'answer', key, text }, `answer:${key}`);
      },
      async requestApproval(channel, request) {
        deliver(channel, { kind: 'approval', request }, `approval:${request.requestId}`);
      },
    },
    subscribe(session, listener) {
      const set = listeners.get(session) ?? new Set();
      set.add(listener);
      listeners.set(session, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(session);
      };
    },
  };
}
