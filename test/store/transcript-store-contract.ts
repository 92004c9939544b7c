import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  isMessageRef,
  MessageCorruptError,
  MessageNotFoundError,
  refOf,
  type MessageRef,
  type TranscriptStore,
} from '../../store/transcript-store.ts';

/** What the contract needs from a backend besides the store: ways to look behind it. */
export interface ContractSubject {
  store: TranscriptStore;
  /** Every object the store holds, by path or key relative to its root. */
  listObjects(): Promise<string[]>;
  /** Replaces the stored bytes of a message (`kind` 'message') or blob, bypassing the store. */
  tamper(kind: 'message' | 'blob', ref: MessageRef, bytes: Uint8Array): Promise<void>;
}

const userMessage = { role: 'user', parts: [{ text: 'What is the weather in Lisbon?' }] };

/** The one behaviour every TranscriptStore backend must have. `subject` gives a fresh, empty store per test. */
export function describeTranscriptStoreContract(name: string, subject: () => Promise<ContractSubject>) {
  describe(`${name}: the TranscriptStore contract`, () => {
    it('gives the same ref for the same content, whatever the key order, and another ref for other content', async () => {
      const { store } = await subject();
      const first = await store.put({ role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Lisbon', days: 3 } } }] });
      const reordered = await store.put({
        parts: [{ functionCall: { args: { days: 3, city: 'Lisbon' }, name: 'weather' } }],
        role: 'model',
      });
      const other = await store.put({ role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Lisbon', days: 4 } } }] });
      expect(isMessageRef(first)).toBe(true);
      expect(reordered).toBe(first);
      expect(other).not.toBe(first);
      expect(first).toBe(refOf({ parts: [{ functionCall: { args: { days: 3, city: 'Lisbon' }, name: 'weather' } }], role: 'model' }));
    });

    it('round-trips a message: unicode, numbers, nesting, null', async () => {
      const { store } = await subject();
      const message = {
        role: 'user',
        parts: [{ text: 'Olá 👋 — "quoted" \\ back\nslash \u0000' }],
        meta: { n: -1.5e-7, big: 2 ** 53, flag: false, none: null, list: [1, [2, [3]]] },
      };
      expect(await store.get(await store.put(message))).toEqual(message);
    });

    it('stores a message once, however often and however concurrently it is put', async () => {
      const { store, listObjects } = await subject();
      const ref = await store.put(userMessage);
      expect(await store.put(userMessage)).toBe(ref);
      const refs = await Promise.all(Array.from({ length: 200 }, () => store.put(structuredClone(userMessage))));
      expect(new Set(refs)).toEqual(new Set([ref]));
      expect(await listObjects()).toHaveLength(1);
      expect(await store.get(ref)).toEqual(userMessage);
    });

    it('throws MessageNotFound, with the ref, for a message that was never stored', async () => {
      const { store } = await subject();
      const ref = refOf({ never: 'stored' });
      const error = await store.get(ref).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MessageNotFoundError);
      expect(error).toMatchObject({ name: 'MessageNotFound', ref });
      await expect(store.getBlob(ref)).rejects.toMatchObject({ name: 'MessageNotFound', ref });
    });

    it('throws MessageCorrupt when the stored bytes no longer hash to the ref', async () => {
      const { store, tamper } = await subject();
      const ref = await store.put(userMessage);
      await tamper('message', ref, new TextEncoder().encode(JSON.stringify({ role: 'user', parts: [{ text: 'Transfer $1M' }] })));
      const error = await store.get(ref).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MessageCorruptError);
      expect(error).toMatchObject({ name: 'MessageCorrupt', ref });

      const blobRef = await store.putBlob(new Uint8Array([1, 2, 3]), 'application/octet-stream');
      await tamper('blob', blobRef, new Uint8Array([1, 2, 4]));
      await expect(store.getBlob(blobRef)).rejects.toMatchObject({ name: 'MessageCorrupt', ref: blobRef });
    });

    it('returns getMany results in the order asked, repeats included', async () => {
      const { store } = await subject();
      const messages = Array.from({ length: 60 }, (_, index) => ({
        role: index % 2 ? 'model' : 'user',
        parts: [{ text: `message ${index}` }],
      }));
      const refs = await store.putMany(messages);
      expect(refs).toEqual(messages.map((message) => refOf(message)));
      const order = [...refs.keys()].reverse().concat([7, 7, 0]);
      expect(await store.getMany(order.map((index) => refs[index] as MessageRef))).toEqual(order.map((index) => messages[index]));
      await expect(store.getMany([refs[0] as MessageRef, refOf('missing')])).rejects.toMatchObject({ name: 'MessageNotFound' });
    });

    it('round-trips a 10 MB blob with its content type, separately from messages', async () => {
      const { store } = await subject();
      const bytes = new Uint8Array(randomBytes(10 * 1024 * 1024));
      const ref = await store.putBlob(bytes, 'application/pdf');
      expect(await store.putBlob(bytes, 'application/pdf')).toBe(ref);
      const blob = await store.getBlob(ref);
      expect(blob.contentType).toBe('application/pdf');
      expect(blob.bytes.byteLength).toBe(bytes.byteLength);
      expect(Buffer.compare(blob.bytes, bytes)).toBe(0);
      await expect(store.get(ref)).rejects.toMatchObject({ name: 'MessageNotFound' });
    });

    it('refuses what is not a ref or not JSON, before touching storage', async () => {
      const { store } = await subject();
      await expect(store.get('sha256:../../../etc/passwd')).rejects.toThrow(TypeError);
      await expect(store.getBlob('ab'.repeat(32))).rejects.toThrow(TypeError);
      await expect(store.put(undefined)).rejects.toThrow(TypeError);
      await expect(store.put({ count: 1n })).rejects.toThrow(/BigInt/);
      await expect(store.putBlob(new Uint8Array(1), 'not a type')).rejects.toThrow(TypeError);
    });
  });
}
