import { canonicalJson } from './canonical-json.ts';
import { encodeBytes, objectPath } from './content-address.ts';
import type { MessageRef } from './message-ref.ts';
import type { StoredBlob, TranscriptStore } from './transcript-store.ts';

export interface CachedStoreOptions {
  /** Bytes the cache may hold: the UTF-8 size of cached messages' JSON plus cached blobs' bytes. @default 64 MiB */
  maxBytes?: number;
  /** Larger entries are passed through uncached, so one attachment cannot flush the conversation. @default maxBytes / 8 */
  maxEntryBytes?: number;
}

export interface CacheStats {
  /** Gets answered from memory, without a call to the store behind. */
  hits: number;
  /** Gets passed to the store behind. */
  misses: number;
  /** Puts of content already cached, so already stored: no call to the store behind. */
  skippedWrites: number;
  evictions: number;
  entries: number;
  bytes: number;
  maxBytes: number;
}

export interface CachedTranscriptStore extends TranscriptStore {
  stats(): CacheStats;
  /** Drops every entry; counters are kept. */
  clear(): void;
}

export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

type Entry = { kind: 'message'; json: string; size: number } | { kind: 'blob'; blob: StoredBlob; size: number };

const utf8 = new TextEncoder();

function encode(message: unknown): { json: string; ref: MessageRef } {
  const json = canonicalJson(message);
  return { json, ref: encodeBytes(utf8.encode(json)).ref };
}

/**
 * Wraps a store with an in-memory LRU cache bounded in bytes. Content-addressed entries
 * never go stale, so there is no expiry; only the byte bound evicts. Messages are kept as
 * JSON text and parsed on every hit, so callers cannot change what others will read.
 */
export function createCachedStore(store: TranscriptStore, options: CachedStoreOptions = {}): CachedTranscriptStore {
  const maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
    throw new RangeError(`maxBytes must be a whole number of bytes ≥ 0, not ${maxBytes}.`);
  const maxEntryBytes = Math.min(options.maxEntryBytes ?? Math.floor(maxBytes / 8), maxBytes);
  // Map keeps insertion order: the first key is the least recently used.
  const entries = new Map<string, Entry>();
  const counters = { hits: 0, misses: 0, skippedWrites: 0, evictions: 0 };
  let bytes = 0;

  const messageKey = (ref: MessageRef) => objectPath('message', ref);
  const blobKey = (ref: MessageRef) => objectPath('blob', ref);

  function lookup(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry) {
      // Re-inserted: now the most recently used.
      entries.delete(key);
      entries.set(key, entry);
    }
    return entry;
  }

  function remember(key: string, entry: Entry): void {
    if (entry.size > maxEntryBytes || entries.has(key)) return;
    entries.set(key, entry);
    bytes += entry.size;
    for (const [oldestKey, oldest] of entries) {
      if (bytes <= maxBytes) break;
      entries.delete(oldestKey);
      bytes -= oldest.size;
      counters.evictions++;
    }
  }

  function rememberMessage(ref: MessageRef, json: string): void {
    remember(messageKey(ref), { kind: 'message', json, size: Buffer.byteLength(json, 'utf8') });
  }

  function rememberBlob(ref: MessageRef, blob: StoredBlob): void {
    // Copied, so neither the caller who passed these bytes nor any reader can change them.
    if (blob.bytes.byteLength <= maxEntryBytes)
      remember(blobKey(ref), {
        kind: 'blob',
        blob: { bytes: blob.bytes.slice(), contentType: blob.contentType },
        size: blob.bytes.byteLength,
      });
  }

  /** For writes: cached content is already stored, so the write can be skipped. */
  function isCached(key: string): boolean {
    const known = lookup(key) !== undefined;
    if (known) counters.skippedWrites++;
    return known;
  }

  function cachedMessage<T>(ref: MessageRef): T | undefined {
    const entry = lookup(messageKey(ref));
    if (entry?.kind !== 'message') return undefined;
    counters.hits++;
    return JSON.parse(entry.json) as T;
  }

  const cached: CachedTranscriptStore = {
    async put(message) {
      const { json, ref } = encode(message);
      if (isCached(messageKey(ref))) return ref;
      await store.put(message);
      rememberMessage(ref, json);
      return ref;
    },
    async putMany(messages) {
      const encoded = messages.map((message) => ({ message, ...encode(message) }));
      const unknown = encoded.filter(({ ref }) => !isCached(messageKey(ref)));
      if (unknown.length > 0) await store.putMany(unknown.map(({ message }) => message));
      for (const { ref, json } of unknown) rememberMessage(ref, json);
      return encoded.map(({ ref }) => ref);
    },
    async get<T>(ref: MessageRef) {
      const hit = cachedMessage<T>(ref);
      if (hit !== undefined) return hit;
      counters.misses++;
      const message = await store.get<T>(ref);
      rememberMessage(ref, canonicalJson(message));
      return message;
    },
    async getMany<T>(refs: MessageRef[]) {
      const results = new Array<T>(refs.length);
      const missing = new Map<MessageRef, number[]>();
      refs.forEach((ref, index) => {
        const hit = missing.has(ref) ? undefined : cachedMessage<T>(ref);
        if (hit !== undefined) results[index] = hit;
        else missing.set(ref, [...(missing.get(ref) ?? []), index]);
      });
      const missingRefs = [...missing.keys()];
      if (missingRefs.length === 0) return results;
      counters.misses += missingRefs.length;
      const loaded = await store.getMany<T>(missingRefs);
      missingRefs.forEach((ref, position) => {
        const json = canonicalJson(loaded[position]);
        rememberMessage(ref, json);
        for (const index of missing.get(ref) ?? []) results[index] = JSON.parse(json) as T;
      });
      return results;
    },
    async putBlob(bytes, contentType) {
      const { ref } = encodeBytes(bytes);
      if (isCached(blobKey(ref))) return ref;
      await store.putBlob(bytes, contentType);
      rememberBlob(ref, { bytes, contentType });
      return ref;
    },
    async getBlob(ref) {
      const entry = lookup(blobKey(ref));
      if (entry?.kind === 'blob') {
        counters.hits++;
        return { bytes: entry.blob.bytes.slice(), contentType: entry.blob.contentType };
      }
      counters.misses++;
      const blob = await store.getBlob(ref);
      rememberBlob(ref, blob);
      return blob;
    },
    stats: () => ({ ...counters, entries: entries.size, bytes, maxBytes }),
    clear() {
      entries.clear();
      bytes = 0;
    },
  };
  return cached;
}
