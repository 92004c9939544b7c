import { S3Client } from '@aws-sdk/client-s3';
import type { TranscriptStoreSettings } from '../config/transcript-store-settings.ts';
import { createCachedStore, type CachedTranscriptStore } from './cached-store.ts';
import { createLocalDirectoryStore } from './local-directory-store.ts';
import { createS3Store } from './s3-store.ts';

export interface TranscriptStoreDeps {
  /** The S3 client to use; by default one built from the SDK's usual environment and config files. */
  s3Client?: S3Client;
}

/**
 * The transcript store the settings ask for (a local folder by default, or S3), behind an
 * in-memory cache of TRANSCRIPT_CACHE_BYTES (0 caches nothing). The settings are read once
 * by the program's entry (`loadTranscriptStoreSettings`).
 */
export function createTranscriptStore(settings: TranscriptStoreSettings, deps: TranscriptStoreDeps = {}): CachedTranscriptStore {
  const store =
    settings.TRANSCRIPT_STORE === 's3'
      ? createS3Store(s3LocationFor(settings, deps))
      : createLocalDirectoryStore({ directory: settings.TRANSCRIPT_DIR });
  return createCachedStore(store, { maxBytes: settings.TRANSCRIPT_CACHE_BYTES });
}

/** The bucket, prefix and client of a store in S3 (`TRANSCRIPT_STORE=s3`): the transcripts, and the record files next to them. */
export function s3LocationFor(
  settings: TranscriptStoreSettings,
  deps: TranscriptStoreDeps = {},
): { client: S3Client; bucket: string; prefix: string } {
  return {
    // The SDK reads AWS_ENDPOINT_URL_S3 (and region, credentials) itself. Servers behind a
    // custom endpoint (moto, MinIO, LocalStack on localhost) cannot resolve bucket subdomains.
    client: deps.s3Client ?? new S3Client(settings.AWS_ENDPOINT_URL_S3 === undefined ? {} : { forcePathStyle: true }),
    bucket: settings.TRANSCRIPT_BUCKET as string, // required for s3 by the schema
    prefix: settings.TRANSCRIPT_PREFIX,
  };
}
