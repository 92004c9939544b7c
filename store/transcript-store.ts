import type { MessageRef } from './message-ref.ts';

export { isMessageRef, type MessageRef } from './message-ref.ts';
export { refOf } from './content-address.ts';
export { MessageCorruptError, MessageNotFoundError } from './errors.ts';

export interface StoredBlob {
  bytes: Uint8Array;
  contentType: string;
}

/**
 * Messages stored once, by the hash of their content. Writes are idempotent and never
 * overwrite; reads check what they got against the ref. Workflows keep the refs only.
 */
export interface TranscriptStore {
  /** Stores a JSON value under the SHA-256 of its canonical JSON (sorted keys); storing it again is a no-op. */
  put(message: unknown): Promise<MessageRef>;
  putMany(messages: unknown[]): Promise<MessageRef[]>;
  /** @throws MessageNotFoundError (name 'MessageNotFound') when absent; MessageCorruptError (name 'MessageCorrupt') when the bytes do not hash to `ref`. */
  get<T = unknown>(ref: MessageRef): Promise<T>;
  /** Reads in parallel, a bounded number at a time; results in the order of `refs`. */
  getMany<T = unknown>(refs: MessageRef[]): Promise<T[]>;
  /** Stores raw bytes (attachments, large raw results) under their SHA-256. The first content type stored for given bytes is kept. */
  putBlob(bytes: Uint8Array, contentType: string): Promise<MessageRef>;
  /** @throws MessageNotFoundError or MessageCorruptError, as `get` does. */
  getBlob(ref: MessageRef): Promise<StoredBlob>;
}

/** Reads in flight at once in `getMany`/`putMany`, unless a store is told otherwise. */
export const DEFAULT_CONCURRENCY = 16;
