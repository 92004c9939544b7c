import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createFileAtomically, writeFileAtomically } from './atomic-file.ts';
import type { TranscriptStoreSettings } from './create-store.ts';

/**
 * Small mutable JSON records by key, next to the transcript store (a folder or the bucket
 * under its prefix): the few pointers that move (conversation index, ambient memory) while
 * the transcript itself stays content-addressed and immutable.
 */
export interface RecordFiles {
  read(key: string): Promise<string | undefined>;
  write(key: string, text: string): Promise<void>;
  /** Writes only if nothing is under `key` yet: true when this call created it; of callers racing on one key, exactly one. */
  create(key: string, text: string): Promise<boolean>;
}

/** Records in a folder; written to a temporary file and renamed, so a reader sees a whole record. */
export function createLocalRecordFiles(options: { directory: string }): RecordFiles {
  const root = resolve(options.directory);
  return {
    async read(key) {
      try {
        return await readFile(join(root, key), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    write: (key, text) => writeFileAtomically(join(root, key), text, join(root, '.tmp')),
    create: (key, text) => createFileAtomically(join(root, key), text, join(root, '.tmp')),
  };
}

/** Records in an S3 bucket (read-after-write consistent), under the transcript store's prefix. */
export function createS3RecordFiles(options: { client: S3Client; bucket: string; prefix?: string }): RecordFiles {
  const prefix = (options.prefix ?? '').replace(/^\/+/, '');
  const keyPrefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
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
    // S3's conditional write: 412 when the key exists; 409 when another conditional write to it is in flight (try again).
    async create(key, text) {
      for (let attempt = 1; ; attempt++) {
        try {
          await options.client.send(new PutObjectCommand({ Bucket: options.bucket, Key: keyPrefix + key, Body: text, ContentType: 'application/json', IfNoneMatch: '*' }));
          return true;
        } catch (error) {
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          if (status === 412) return false;
          if (status !== 409 || attempt >= 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        }
      }
    },
  };
}

/** Records in memory: for one process that never restarts (tests of a single worker). */
export function createMemoryRecordFiles(): RecordFiles {
  const records = new Map<string, string>();
  return {
    read: async (key) => records.get(key),
    write: async (key, text) => {
      records.set(key, text);
    },
    create: async (key, text) => {
      if (records.has(key)) return false;
      records.set(key, text);
      return true;
    },
  };
}

/** The records next to the transcript store the same settings describe (TRANSCRIPT_STORE, TRANSCRIPT_DIR, TRANSCRIPT_BUCKET, TRANSCRIPT_PREFIX). */
export function recordFilesFor(settings: TranscriptStoreSettings, deps: { s3Client?: S3Client } = {}): RecordFiles {
  if (settings.TRANSCRIPT_STORE === 's3') {
    return createS3RecordFiles({
      client: deps.s3Client ?? new S3Client(settings.AWS_ENDPOINT_URL_S3 === undefined ? {} : { forcePathStyle: true }),
      bucket: settings.TRANSCRIPT_BUCKET as string,
      prefix: settings.TRANSCRIPT_PREFIX,
    });
  }
  return createLocalRecordFiles({ directory: settings.TRANSCRIPT_DIR });
}
