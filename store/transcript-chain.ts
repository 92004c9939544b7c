import type { Content, MessageRef } from '../core/spec.ts';
import type { TranscriptStore } from './transcript-store.ts';

/** What a message is, for cutting a context window without breaking Gemini's turn rules. */
export type MessageKind = 'prompt' | 'model' | 'tool-results';

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
  messageKind: MessageKind;
  /** The newest prompt node at or before this one: the turn this node belongs to. */
  prompt: MessageRef | null;
  /** Messages in the chain up to and including this one. */
  length: number;
  /** Size of the message's JSON, so a context can be sized without loading it. */
  bytes: number;
}

export function kindOf(message: Content): MessageKind {
  if (message.role === 'model') return 'model';
  return message.parts.some((part) => part.functionResponse) ? 'tool-results' : 'prompt';
}

export async function appendMessages(store: TranscriptStore, head: MessageRef | undefined, messages: Content[]): Promise<MessageRef> {
  let current = head ?? null;
  const previousNode = current ? await store.get<TranscriptNode>(current) : undefined;
  let length = previousNode?.length ?? 0;
  let prompt = previousNode?.prompt ?? null;
  for (const message of messages) {
    const messageKind = kindOf(message);
    const messageRef = await store.put(message);
    length += 1;
    const node: Omit<TranscriptNode, 'prompt'> = {
      kind: 'transcript-node',
      previous: current,
      message: messageRef,
      messageKind,
      length,
      bytes: JSON.stringify(message).length,
    };
    // A prompt node is its own turn's anchor; it cannot name its own ref, so it names null.
    current = await store.put({ ...node, prompt: messageKind === 'prompt' ? null : prompt });
    if (messageKind === 'prompt') prompt = current;
  }
  if (!current) throw new Error('appendMessages needs a head or at least one message.');
  return current;
}

export interface ContextWindow {
  /** Most bytes of message JSON to send the model; older messages are left out. */
  maxBytes: number;
}

interface Loaded {
  ref: MessageRef;
  node: TranscriptNode;
}

/**
 * The messages to send the model, oldest first: the newest that fit the window. When older
 * ones must go, the window still opens with the current turn's prompt (with a note saying
 * what was left out), followed by whole model-call/tool-result pairs, because Gemini wants a
 * user turn first and every function response right after its call.
 */
export async function loadContext(store: TranscriptStore, head: MessageRef, window: ContextWindow): Promise<Content[]> {
  const tail: Loaded[] = [];
  let total = 0;
  let cursor: MessageRef | null = head;
  while (cursor) {
    const node: TranscriptNode = await store.get<TranscriptNode>(cursor);
    if (tail.length > 0 && total + node.bytes > window.maxBytes) break;
    tail.push({ ref: cursor, node });
    total += node.bytes;
    cursor = node.previous;
  }
  tail.reverse();
  const reachedStart = cursor === null;
  if (reachedStart) return store.getMany<Content>(tail.map(({ node }) => node.message));

  // Cut: open at a prompt that fits, if one does …
  const firstPrompt = tail.findIndex(({ node }) => node.messageKind === 'prompt');
  const newest = tail.at(-1)!;
  const currentPrompt = newest.node.messageKind === 'prompt' ? newest.ref : newest.node.prompt;
  const promptInside = firstPrompt !== -1 && tail.slice(firstPrompt).some(({ ref }) => ref === currentPrompt);
  if (promptInside) return store.getMany<Content>(tail.slice(firstPrompt).map(({ node }) => node.message));

  // … or else open with the current turn's prompt and the newest whole call/result pairs.
  const start = tail.findIndex(({ node }) => node.messageKind === 'model');
  const kept = start === -1 ? [] : tail.slice(start);
  if (kept.length === 0) {
    // The newest tool results alone overflow the window: keep their call with them.
    let back = tail[0]!.node.previous;
    const extra: Loaded[] = [];
    while (back) {
      const node: TranscriptNode = await store.get<TranscriptNode>(back);
      extra.unshift({ ref: back, node });
      if (node.messageKind === 'model') break;
      back = node.previous;
    }
    kept.push(...extra, ...tail);
  }
  const messages = await store.getMany<Content>(kept.map(({ node }) => node.message));
  if (!currentPrompt) return messages;
  const promptNode = await store.get<TranscriptNode>(currentPrompt);
  const prompt = await store.get<Content>(promptNode.message);
  const left = kept[0]!.node.length - promptNode.length - 1;
  if (left === 0) return [prompt, ...messages];
  const note = `[${left} earlier message(s) of this turn are left out to fit the context window; the newest follow.]`;
  return [{ ...prompt, parts: [...prompt.parts, { text: note }] }, ...messages];
}

/** Every message of a transcript, oldest first (for UIs and tests; the model gets `loadContext`). */
export async function loadAll(store: TranscriptStore, head: MessageRef): Promise<Content[]> {
  return loadContext(store, head, { maxBytes: Number.POSITIVE_INFINITY });
}
