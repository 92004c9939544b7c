import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { emailThreadRecordSchema, type EmailThreadRecord } from '../core/email-thread.ts';
import type { TranscriptStoreSettings } from './create-store.ts';

/**
 * The email thread records (core/email-thread.ts), next to the transcript store:
 * `email-threads/token/ab/cdef….json` and `email-threads/message/ab/cdef….json`, named by the
 * SHA-256 of the token id or Message-ID, so no outside string ever becomes a path. The
 * worker writes; the email edge reads. A record that does not parse is treated as absent.
 */
export interface EmailThreadIndex {
  putToken(tokenId: string, record: EmailThreadRecord): Promise<void>;
  getToken(tokenId: string): Promise<EmailThreadRecord | undefined>;
  putMessage(messageId: string, record: EmailThreadRecord): Promise<void>;
  getMessage(messageId: string): Promise<EmailThreadRecord | undefined>;
}

interface RecordFiles {
  read(key: string): Promise<string | undefined>;
  write(key: string, text: string): Promise<void>;
}

function createIndex(files: RecordFiles): EmailThreadIndex {
  const keyOf = (kind: 'token' | 'message', id: string) => {
    const digest = createHash('sha256').update(`${kind}:${id}`).digest('hex');
    return `email-threads/${kind}/${digest.slice(0, 2)}/${digest.slice(2)}.json`;
  };
  const get = async (key: string) => {
    const text = await files.read(key);
    if (text === undefined) return undefined;
    try {
      const parsed = emailThreadRecordSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  };
  const put = (key: string, record: EmailThreadRecord) => files.write(key, JSON.stringify(emailThreadRecordSchema.parse(record)));
  return {
    putToken: (tokenId, record) => put(keyOf('token', tokenId), record),
    getToken: (tokenId) => get(keyOf('token', tokenId)),
    // Message-IDs compare without angle brackets and case-sensitively in the local part; the
    // domain part is lower-cased by convention, which is enough for ids we minted ourselves.
    putMessage: (messageId, record) => put(keyOf('message', messageId), record),
    getMessage: (messageId) => get(keyOf('message', messageId)),
  };
}

export function createLocalEmailThreadIndex(options: { directory: string }): EmailThreadIndex {
  const root = resolve(options.directory);
  return createIndex({
    async read(key) {
      try {
        return await readFile(join(root, key), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async write(key, text) {
      const path = join(root, key);
      const temporary = join(root, '.tmp', randomUUID());
      await Promise.all([mkdir(dirname(path), { recursive: true }), mkdir(dirname(temporary), { recursive: true })]);
      try {
        await writeFile(temporary, text);
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
  });
}

export function createS3EmailThreadIndex(options: { client: S3Client; bucket: string; prefix?: string }): EmailThreadIndex {
  const prefix = (options.prefix ?? '').replace(/^\/+/, '');
  const keyPrefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  return createIndex({
    async read(key) {
      try {
        const response = await options.client.send(new GetObjectCommand({ Bucket: options.bucket, Key: keyPrefix + key }));
        return await response.Body?.transformToString('utf8');
      } catch (error) {
        const candidate = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (candidate.name === 'NoSuchKey' || candidate.$metadata?.httpStatusCode === 404) return undefined;
        throw error;
      }
    },
    async write(key, text) {
      await options.client.send(new PutObjectCommand({ Bucket: options.bucket, Key: keyPrefix + key, Body: text, ContentType: 'application/json' }));
    },
  });
}

/** Records in memory: tests, and one process that shares them between its edge and its worker. */
export function createMemoryEmailThreadIndex(): EmailThreadIndex {
  const records = new Map<string, string>();
  return createIndex({
    read: async (key) => records.get(key),
    write: async (key, text) => {
      records.set(key, text);
    },
  });
}

/** The index next to the transcript store the same settings describe. */
export function createEmailThreadIndex(settings: TranscriptStoreSettings, deps: { s3Client?: S3Client } = {}): EmailThreadIndex {
  if (settings.TRANSCRIPT_STORE === 's3') {
    return createS3EmailThreadIndex({
      client: deps.s3Client ?? new S3Client(settings.AWS_ENDPOINT_URL_S3 === undefined ? {} : { forcePathStyle: true }),
      bucket: settings.TRANSCRIPT_BUCKET as string,
      prefix: settings.TRANSCRIPT_PREFIX,
    });
  }
  return createLocalEmailThreadIndex({ directory: settings.TRANSCRIPT_DIR });
}
