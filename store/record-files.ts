import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createFileAtomically, writeFileAtomically } from './atomic-file.ts';
import { s3LocationFor, type TranscriptStoreDeps } from './create-store.ts';
import { type TranscriptStoreSettings } from '../config/transcript-store-settings.ts';
import { normalizePrefix, putObjectIfAbsent, statusOf } from './s3-objects.ts';

/**
 * Small mutable JSON records by key, next to the transcript store (a folder or the bucket
 * under its prefix): the few pointers that move (conversation index, ambient memory) while
 * the transcript itself stays content-addressed and immutable. `createRecordStore`
 * (record-store.ts) gives them a schema.
 */
export interface RecordFiles {
  read(key: string): Promise<string | undefined>;
  write(key: string, text: string): Promise<void>;
  /** Writes only if nothing is under `key` yet: true when this call created it; of callers racing on one key, exactly one. */
  create(key: string, text: string): Promise<boolean>;
}

/** Record files, or the transcript store settings whose record files are meant (`recordFilesFor`). */
export type RecordFilesSource = RecordFiles | TranscriptStoreSettings;

/** Attempts of a create that S3 answers 409 ConditionalRequestConflict: another create of the same key in flight. */
const CONFLICT_ATTEMPTS = 5;

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

/** Records in an S3 bucket (read-after-write consistent), under the transcript store's prefix; creates are S3's conditional writes. */
export function createS3RecordFiles(options: { client: S3Client; bucket: string; prefix?: string }): RecordFiles {
  const { client, bucket } = options;
  const keyPrefix = normalizePrefix(options.prefix ?? '');
  return {
    async read(key) {
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyPrefix + key }));
        return await response.Body?.transformToString('utf8');
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async write(key, text) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: keyPrefix + key, Body: text, ContentType: 'application/json' }));
    },
    create: (key, text) =>
      putObjectIfAbsent(client, { Bucket: bucket, Key: keyPrefix + key, Body: text, ContentType: 'application/json' }, CONFLICT_ATTEMPTS),
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

/**
 * The record files `source` names: itself when it is record files, else those next to the
 * transcript store the settings describe (TRANSCRIPT_STORE, TRANSCRIPT_DIR, TRANSCRIPT_BUCKET,
 * TRANSCRIPT_PREFIX). The one place a backend is chosen.
 */
export function recordFilesFor(source: RecordFilesSource, deps: TranscriptStoreDeps = {}): RecordFiles {
  if (!('TRANSCRIPT_STORE' in source)) return source;
  return source.TRANSCRIPT_STORE === 's3'
    ? createS3RecordFiles(s3LocationFor(source, deps))
    : createLocalRecordFiles({ directory: source.TRANSCRIPT_DIR });
}
