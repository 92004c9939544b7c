import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { loadSettingsFrom, optionalText } from '../config/load-settings.ts';
import { createCachedStore, DEFAULT_CACHE_BYTES, type CachedTranscriptStore } from './cached-store.ts';
import { createLocalDirectoryStore } from './local-directory-store.ts';
import { createS3Store } from './s3-store.ts';

/** The transcript store's settings, their variables and defaults. The README's configuration table mirrors it. */
export const transcriptStoreSettingsSchema = z
  .object({
    TRANSCRIPT_STORE: z
      .enum(['local', 's3', ''], { message: "TRANSCRIPT_STORE must be 'local' or 's3'" })
      .optional()
      .transform((value) => (value === undefined || value === '' ? 'local' : value)),
    TRANSCRIPT_DIR: optionalText.transform((value) => value ?? '.data/transcripts'),
    TRANSCRIPT_BUCKET: optionalText,
    TRANSCRIPT_PREFIX: optionalText.transform((value) => value ?? ''),
    TRANSCRIPT_CACHE_BYTES: z
      .union([z.number(), z.string().trim()])
      .optional()
      .transform((value) => (value === undefined || value === '' ? DEFAULT_CACHE_BYTES : Number(value)))
      .pipe(
        z
          .number({ message: 'TRANSCRIPT_CACHE_BYTES must be a number of bytes' })
          .int('TRANSCRIPT_CACHE_BYTES must be a whole number of bytes')
          .min(0)
          .max(Number.MAX_SAFE_INTEGER),
      ),
    /** Read by the AWS SDK itself; here only to switch to path-style addressing, which local S3 servers need. */
    AWS_ENDPOINT_URL_S3: optionalText,
  })
  .superRefine((settings, context) => {
    if (settings.TRANSCRIPT_STORE === 's3' && settings.TRANSCRIPT_BUCKET === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['TRANSCRIPT_BUCKET'],
        message: "TRANSCRIPT_BUCKET must name the bucket when TRANSCRIPT_STORE is 's3'",
      });
    }
  });

export type TranscriptStoreSettings = z.infer<typeof transcriptStoreSettingsSchema>;

/** Reads and validates the transcript store's variables; a bad value names the variable to fix. */
export function loadTranscriptStoreSettings(env: Record<string, unknown>): TranscriptStoreSettings {
  return loadSettingsFrom(transcriptStoreSettingsSchema, env, 'transcript store');
}

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
