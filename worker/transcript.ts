import type { Content, MessageRef } from '../core/spec.ts';
import type { TranscriptStore } from '../store/transcript-store.ts';

/**
 * A transcript is a chain of nodes in the store, newest first: each node names its message
 * and the node before it. A workflow holds only the newest node's ref (the head), so what it
 * passes to an activity has the same size at step 5 as at step 5,000.
 */
export interface TranscriptNode {
  kind: 'transcript-node';
  /** The node before this one; null for the first message. */
  previous: MessageRef | null;
  message: MessageRef;
  /** Messages in the chain up to and including this one. */
  length: number;
  /** Size of the message's JSON, so a context can be sized without loading it. */
  bytes: number;
}

export async function appendMessages(store: TranscriptStore, head: MessageRef | undefined, messages: Content[]): Promise<MessageRef> {
  let current = head ?? null;
  let length = current ? (await store.get<TranscriptNode>(current)).length : 0;
  for (const message of messages) {
    const messageRef = await store.put(message);
    length += 1;
    const node: TranscriptNode = { kind: 'transcript-node', previous: current, message: messageRef, length, bytes: JSON.stringify(message).length };
    current = await store.put(node);
  }
  if (!current) throw new Error('appendMessages needs a head or at least one message.');
  return current;
}

export interface ContextWindow {
  /** Most bytes of message JSON to send the model; older messages are left out. */
  maxBytes: number;
}

/**
 * The newest messages of a transcript that fit the window, oldest first. The window never
 * starts with a function response or a model turn: Gemini wants a user turn first and each
 * function response right after its call.
 */
export async function loadContext(store: TranscriptStore, head: MessageRef, window: ContextWindow): Promise<Content[]> {
  const nodes: TranscriptNode[] = [];
  let total = 0;
  let cursor: MessageRef | null = head;
  while (cursor) {
    const node: TranscriptNode = await store.get<TranscriptNode>(cursor);
    if (nodes.length > 0 && total + node.bytes > window.maxBytes) break;
    nodes.push(node);
    total += node.bytes;
    cursor = node.previous;
  }
  const messages = await store.getMany<Content>(nodes.reverse().map((node) => node.message));
  const start = messages.findIndex((message) => message.role === 'user' && message.parts.every((part) => !part.functionResponse));
  // No clean starting turn fits: keep the newest message alone rather than send nothing.
  return start === -1 ? messages.slice(-1) : messages.slice(start);
}

/** Every message of a transcript, oldest first (for UIs and tests; the model gets `loadContext`). */
export async function loadAll(store: TranscriptStore, head: MessageRef): Promise<Content[]> {
  return loadContext(store, head, { maxBytes: Number.POSITIVE_INFINITY });
}
