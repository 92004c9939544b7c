import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createLocalRecordFiles, createMemoryRecordFiles, createS3RecordFiles, type RecordFiles } from '../store/record-files.ts';
import { startMotoBucket, type MotoBucket } from './moto.ts';

export interface RecordBackends {
  /** A fresh folder for the file's tests (set once they run). */
  readonly directory: string;
  /** moto with one bucket (set once the tests run). */
  readonly s3: MotoBucket;
  /** Record files in memory, in the folder, and in the bucket under a prefix: for `describe.each`. */
  readonly all: [name: string, files: () => RecordFiles][];
}

/**
 * The backends record files run on, for one test file: call at its top level. A folder and
 * moto (with `bucket`) are made before its tests and removed after them.
 */
export function useRecordBackends(bucket: string): RecordBackends {
  let directory: string | undefined;
  let s3: MotoBucket | undefined;
  beforeAll(async () => {
    s3 = await startMotoBucket(bucket);
    directory = await mkdtemp(join(tmpdir(), `${bucket}-`));
  });
  afterAll(async () => {
    await s3?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });
  const backends: RecordBackends = {
    get directory() {
      if (directory === undefined) throw new Error('useRecordBackends: the folder exists only while the tests run');
      return directory;
    },
    get s3() {
      if (s3 === undefined) throw new Error('useRecordBackends: moto runs only while the tests run');
      return s3;
    },
    all: [
      ['memory', () => createMemoryRecordFiles()],
      ['a local folder', () => createLocalRecordFiles({ directory: backends.directory })],
      ['S3 (moto)', () => createS3RecordFiles({ client: backends.s3.client, bucket: backends.s3.bucket, prefix: 'records' })],
    ],
  };
  return backends;
}
