import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createCachedStore } from '../../store/cached-store.ts';
import { createLocalDirectoryStore } from '../../store/local-directory-store.ts';
import type { MessageRef, TranscriptStore } from '../../store/transcript-store.ts';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'transcripts-cache-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

type Method = keyof TranscriptStore;

/** The local store behind a proxy that counts every call by method: what the cache must spare. */
function countingBackend() {
  const backend = createLocalDirectoryStore({ directory });
  const calls: Record<Method, number> = { put: 0, putMany: 0, get: 0, getMany: 0, putBlob: 0, getBlob: 0 };
  const counted = Object.fromEntries(
    (Object.keys(calls) as Method[]).map((method) => [
      method,
      (...args: unknown[]) => {
        calls[method]++;
        return (backend[method] as (...args: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as TranscriptStore;
  return { backend: counted, calls, total: () => Object.values(calls).reduce((sum, count) => sum + count, 0) };
}

/** A message whose canonical JSON is exactly `size` bytes: {"text":"xxx…"} is 11 bytes of frame. */
const messageOfSize = (size: number, seed: number) => ({ text: `${seed}:`.padEnd(size - 11, 'x') });

it('answers a repeated get from memory without calling the store behind', async () => {
  const { backend, calls, total } = countingBackend();
  const ref = await backend.put({ role: 'user', parts: [{ text: 'hello' }] });
  const cached = createCachedStore(backend);
  const before = total();

  expect(await cached.get(ref)).toEqual({ role: 'user', parts: [{ text: 'hello' }] });
  expect(calls.get).toBe(1);
  for (let index = 0; index < 5; index++) expect(await cached.get(ref)).toEqual({ role: 'user', parts: [{ text: 'hello' }] });
  expect(await cached.getMany([ref, ref])).toHaveLength(2);
  expect(total() - before).toBe(1);
  expect(cached.stats()).toMatchObject({ hits: 7, misses: 1, entries: 1 });
});

it('caches what it puts: a later get or a second put does not call the store behind', async () => {
  const { backend, calls, total } = countingBackend();
  const cached = createCachedStore(backend);
  const message = { role: 'model', parts: [{ text: 'answer' }] };
  const ref = await cached.put(message);
  expect(calls.put).toBe(1);
  await cached.put(structuredClone(message));
  await cached.putMany([message, message]);
  expect(await cached.get(ref)).toEqual(message);
  expect(total()).toBe(1);
  expect(cached.stats()).toMatchObject({ hits: 1, misses: 0, skippedWrites: 3 });
});

it('hands out copies: changing a returned message does not change the cache', async () => {
  const cached = createCachedStore(countingBackend().backend);
  const ref = await cached.put({ parts: [{ text: 'original' }] });
  const first = await cached.get<{ parts: { text: string }[] }>(ref);
  (first.parts[0] as { text: string }).text = 'changed';
  expect(await cached.get(ref)).toEqual({ parts: [{ text: 'original' }] });
});

it('never holds more than its byte bound, however much goes through it', async () => {
  const maxBytes = 10_000;
  const cached = createCachedStore(countingBackend().backend, { maxBytes });
  for (let index = 0; index < 200; index++) {
    await cached.put(messageOfSize(300 + (index % 7) * 100, index));
    expect(cached.stats().bytes).toBeLessThanOrEqual(maxBytes);
  }
  const stats = cached.stats();
  expect(stats.bytes).toBeGreaterThan(maxBytes - 1_000);
  expect(stats.evictions).toBeGreaterThan(150);
  expect(stats.entries).toBeLessThan(40);
});

it('evicts the least recently used entry, counting a get as a use', async () => {
  const { backend, calls } = countingBackend();
  // Room for exactly three 100-byte messages.
  const cached = createCachedStore(backend, { maxBytes: 300, maxEntryBytes: 100 });
  const a = await cached.put(messageOfSize(100, 0));
  const b = await cached.put(messageOfSize(100, 1));
  const c = await cached.put(messageOfSize(100, 2));
  expect(cached.stats().bytes).toBe(300);
  await cached.get(a); // a is now the most recent; b the least
  await cached.put(messageOfSize(100, 3));
  expect(cached.stats()).toMatchObject({ entries: 3, evictions: 1, bytes: 300 });

  const getsBefore = calls.get;
  await cached.get(a);
  await cached.get(c);
  expect(calls.get).toBe(getsBefore);
  await cached.get(b);
  expect(calls.get).toBe(getsBefore + 1);
});

it('passes entries larger than maxEntryBytes through without caching them or flushing the rest', async () => {
  const { backend, calls } = countingBackend();
  const cached = createCachedStore(backend, { maxBytes: 1_000, maxEntryBytes: 200 });
  const small = await cached.put(messageOfSize(100, 0));
  const large = await cached.putBlob(new Uint8Array(500), 'application/octet-stream');
  expect(cached.stats()).toMatchObject({ entries: 1, bytes: 100 });
  await cached.getBlob(large);
  await cached.getBlob(large);
  expect(calls.getBlob).toBe(2);
  await cached.get(small);
  expect(calls.get).toBe(0);
});

it('caches blobs by bytes, as copies, and keeps them apart from messages', async () => {
  const { backend, calls } = countingBackend();
  const cached = createCachedStore(backend);
  const bytes = new TextEncoder().encode('{"role":"user"}');
  const blobRef = await cached.putBlob(bytes, 'application/json');
  bytes[0] = 0; // the caller's buffer changes after the put
  const blob = await cached.getBlob(blobRef);
  expect(new TextDecoder().decode(blob.bytes)).toBe('{"role":"user"}');
  expect(calls.getBlob).toBe(0);
  // Same bytes as a message would have, but a message get must not be answered by the blob.
  await expect(cached.get(blobRef)).rejects.toMatchObject({ name: 'MessageNotFound' });
});

it('getMany loads only what is missing, in one bounded call, and keeps the order', async () => {
  const { backend, calls } = countingBackend();
  const messages = Array.from({ length: 10 }, (_, index) => ({ text: `m${index}` }));
  const refs = await backend.putMany(messages);
  const cached = createCachedStore(backend);
  await cached.getMany(refs.slice(0, 5));
  const getManyBefore = calls.getMany;
  const order = [9, 0, 5, 1, 9, 4];
  expect(await cached.getMany(order.map((index) => refs[index] as MessageRef))).toEqual(order.map((index) => messages[index]));
  expect(calls.getMany).toBe(getManyBefore + 1);
  expect(cached.stats()).toMatchObject({ misses: 5 + 2, entries: 7 });
});

it('clear() empties the cache, so the next get reaches the store behind', async () => {
  const { backend, calls } = countingBackend();
  const cached = createCachedStore(backend);
  const ref = await cached.put({ text: 'x' });
  cached.clear();
  expect(cached.stats()).toMatchObject({ entries: 0, bytes: 0 });
  await cached.get(ref);
  expect(calls.get).toBe(1);
});
