import * as z from 'zod';
import { loadSettingsFrom, optionalText } from './load-settings.ts';
import { DEFAULT_CACHE_BYTES } from '../store/cached-store.ts';

/**
 * The transcript store's settings (`store/create-store.ts` builds the store from them): the
 * worker, the local programs and the email edge (attachments) read them alike.
 */
export const transcriptStoreSettingsSchema = z
  .object({
    TRANSCRIPT_STORE: z
      .enum(['local', 's3', ''], { message: "TRANSCRIPT_STORE must be 'local' or 's3'" })
      .optional()
      .transform((value) => (value === undefined || value === '' ? 'local' : value))
      .meta({ description: 'Where transcripts, attachments and the record files go: `local` (a folder) or `s3`.' }),
    TRANSCRIPT_DIR: optionalText.transform((value) => value ?? '.data/transcripts').meta({ description: 'Folder of the local store.' }),
    TRANSCRIPT_BUCKET: optionalText.meta({ description: 'S3 bucket of the store.', requiredWhen: 'when TRANSCRIPT_STORE is `s3`' }),
    TRANSCRIPT_PREFIX: optionalText.transform((value) => value ?? '').meta({ description: 'Prefix of every S3 key.' }),
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
      )
      .meta({ description: 'Size of the in-memory cache of the store, in bytes; `0` turns it off.', unset: '64 MiB' }),
    AWS_ENDPOINT_URL_S3: optionalText.meta({
      description:
        'S3 endpoint (a local S3 such as moto); read by the AWS SDK, and here to switch to the path-style addressing local servers need.',
      unset: 'AWS',
    }),
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
