import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  checkContentType,
  decodeMessage,
  encodeBytes,
  encodeMessage,
  mapWithConcurrency,
  objectPath,
  verify,
  type EncodedObject,
} from './content-address.ts';
import { MessageNotFoundError } from './errors.ts';
import { normalizePrefix, putObjectIfAbsent, statusOf } from './s3-objects.ts';
import { DEFAULT_CONCURRENCY, type StoredBlob, type TranscriptStore } from './transcript-store.ts';

export interface S3StoreOptions {
  /** A configured client; for moto, MinIO or LocalStack give it `endpoint` and `forcePathStyle: true`. */
  client: S3Client;
  bucket: string;
  /** Prepended to every key; a missing trailing `/` is added. @default '' */
  prefix?: string;
  /** Requests in flight at once in `getMany` and `putMany`. @default 16 */
  concurrency?: number;
}

/** Attempts of a write that S3 answers 409 ConditionalRequestConflict: another write of the same key in flight. */
const CONFLICT_ATTEMPTS = 3;

/**
 * A transcript store in an S3 bucket, with the same layout as the local directory
 * (`<prefix>messages/ab/cdef….json`, `<prefix>blobs/ab/cdef…`). Writes are conditional
 * (`If-None-Match: *`), so an object is never overwritten and a second write of the same
 * content costs one request that S3 refuses with 412, which here means success. moto 5.2
 * honours the header too, so the tests exercise this same path; there is no fallback.
 */
export function createS3Store(options: S3StoreOptions): TranscriptStore {
  const { client, bucket } = options;
  const prefix = normalizePrefix(options.prefix ?? '');
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const where = `s3://${bucket}/${prefix}`;

  async function writeOnce(key: string, object: EncodedObject, contentType: string): Promise<void> {
    // false (412) means already there, and content-addressed: the same bytes.
    await putObjectIfAbsent(
      client,
      // S3 checks the upload against the hash the key is named after.
      { Bucket: bucket, Key: key, Body: object.bytes, ContentType: contentType, ChecksumSHA256: object.sha256.toString('base64') },
      CONFLICT_ATTEMPTS,
    );
  }

  async function read(key: string, ref: string): Promise<StoredBlob> {
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) throw new Error(`S3 returned no body for ${where}${key}.`);
      return { bytes: await response.Body.transformToByteArray(), contentType: response.ContentType ?? 'application/octet-stream' };
    } catch (error) {
      if (statusOf(error) === 404) throw new MessageNotFoundError(ref, where);
      throw error;
    }
  }

  const store: TranscriptStore = {
    async put(message) {
      const encoded = encodeMessage(message);
      await writeOnce(prefix + objectPath('message', encoded.ref), encoded, 'application/json');
      return encoded.ref;
    },
    putMany: (messages) => mapWithConcurrency(messages, concurrency, (message) => store.put(message)),
    async get<T>(ref: string) {
      const { bytes } = await read(prefix + objectPath('message', ref), ref);
      return decodeMessage<T>(ref, bytes, where);
    },
    getMany: <T>(refs: string[]) => mapWithConcurrency(refs, concurrency, (ref) => store.get<T>(ref)),
    async putBlob(bytes, contentType) {
      checkContentType(contentType);
      const encoded = encodeBytes(bytes);
      await writeOnce(prefix + objectPath('blob', encoded.ref), encoded, contentType);
      return encoded.ref;
    },
    async getBlob(ref) {
      const blob = await read(prefix + objectPath('blob', ref), ref);
      verify(ref, blob.bytes, where);
      return blob;
    },
  };
  return store;
}
