/**
 * What both backends share: encoding a message to the bytes that are stored and hashed,
 * checking what was read against its ref, and where an object lives.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import { MessageCorruptError } from './errors.ts';
import { isMessageRef, type MessageRef } from './message-ref.ts';

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The ref a message is stored under: SHA-256 of its canonical JSON (sorted keys) in UTF-8. */
export function refOf(message: unknown): MessageRef {
  return encodeMessage(message).ref;
}

export interface EncodedObject {
  ref: MessageRef;
  bytes: Uint8Array;
  /** The raw SHA-256, for stores that verify uploads with it (S3's `ChecksumSHA256`). */
  sha256: Buffer;
}

export function encodeMessage(message: unknown): EncodedObject {
  return encodeBytes(utf8.encode(canonicalJson(message)));
}

export function encodeBytes(bytes: Uint8Array): EncodedObject {
  const sha256 = createHash('sha256').update(bytes).digest();
  return { ref: `sha256:${sha256.toString('hex')}`, bytes, sha256 };
}

/** Checks the bytes against the ref they were read under; `where` names the store in the error. */
export function verify(ref: MessageRef, bytes: Uint8Array, where: string): void {
  const actual = encodeBytes(bytes).ref;
  if (actual !== ref) throw new MessageCorruptError(ref, actual, where);
}

export function decodeMessage<T>(ref: MessageRef, bytes: Uint8Array, where: string): T {
  verify(ref, bytes, where);
  return JSON.parse(strictUtf8.decode(bytes)) as T;
}

/** The hex digest of a ref; rejects anything else, so a ref can never become `../` in a path or key. */
function digestOf(ref: MessageRef): string {
  if (!isMessageRef(ref)) throw new TypeError(`Not a message ref: ${JSON.stringify(ref)} (expected sha256:<64 hex digits>).`);
  return ref.slice('sha256:'.length);
}

/** `messages/ab/cdef….json` or `blobs/ab/cdef…`: two hex digits per shard, 256 shards. */
export function objectPath(kind: 'message' | 'blob', ref: MessageRef): string {
  const digest = digestOf(ref);
  return kind === 'message' ? `messages/${digest.slice(0, 2)}/${digest.slice(2)}.json` : `blobs/${digest.slice(0, 2)}/${digest.slice(2)}`;
}

export function checkContentType(contentType: string): void {
  if (!/^[\w.+-]+\/[\w.+-]+(?:\s*;[\x20-\x7e]*)?$/.test(contentType)) {
    throw new TypeError(`Not a content type: ${JSON.stringify(contentType)} (expected e.g. 'image/png' or 'text/plain; charset=utf-8').`);
  }
}

/** Maps with at most `limit` calls in flight; results keep the order of `items`. */
export async function mapWithConcurrency<Item, Result>(
  items: readonly Item[],
  limit: number,
  map: (item: Item, index: number) => Promise<Result>,
): Promise<Result[]> {
  const results = new Array<Result>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await map(items[index] as Item, index);
      } catch (error) {
        failed = true; // the caller gets this error; start no more calls
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}
