import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/load-settings.ts';
import { loadTranscriptStoreSettings } from '../../config/transcript-store-settings.ts';

describe('loadTranscriptStoreSettings', () => {
  it('defaults to a local directory with a 64 MiB cache', () => {
    expect(loadTranscriptStoreSettings({})).toEqual({
      TRANSCRIPT_STORE: 'local',
      TRANSCRIPT_DIR: '.data/transcripts',
      TRANSCRIPT_PREFIX: '',
      TRANSCRIPT_CACHE_BYTES: 64 * 1024 * 1024,
    });
    expect(loadTranscriptStoreSettings({ TRANSCRIPT_STORE: '', TRANSCRIPT_DIR: ' ', TRANSCRIPT_CACHE_BYTES: '' })).toMatchObject({
      TRANSCRIPT_STORE: 'local',
      TRANSCRIPT_DIR: '.data/transcripts',
      TRANSCRIPT_CACHE_BYTES: 64 * 1024 * 1024,
    });
  });

  it('reads S3 settings', () => {
    expect(
      loadTranscriptStoreSettings({
        TRANSCRIPT_STORE: 's3',
        TRANSCRIPT_BUCKET: 'acme-transcripts',
        TRANSCRIPT_PREFIX: 'prod/',
        TRANSCRIPT_CACHE_BYTES: '0',
        AWS_ENDPOINT_URL_S3: 'http://localhost:4566',
      }),
    ).toEqual({
      TRANSCRIPT_STORE: 's3',
      TRANSCRIPT_DIR: '.data/transcripts',
      TRANSCRIPT_BUCKET: 'acme-transcripts',
      TRANSCRIPT_PREFIX: 'prod/',
      TRANSCRIPT_CACHE_BYTES: 0,
      AWS_ENDPOINT_URL_S3: 'http://localhost:4566',
    });
  });

  it('names TRANSCRIPT_BUCKET when S3 is chosen without one', () => {
    expect(() => loadTranscriptStoreSettings({ TRANSCRIPT_STORE: 's3' })).toThrow(ConfigError);
    expect(() => loadTranscriptStoreSettings({ TRANSCRIPT_STORE: 's3', TRANSCRIPT_BUCKET: '  ' })).toThrow(/TRANSCRIPT_BUCKET/);
  });

  it('names the variable that holds a bad value', () => {
    expect(() => loadTranscriptStoreSettings({ TRANSCRIPT_STORE: 'dynamodb' })).toThrow(
      /TRANSCRIPT_STORE: TRANSCRIPT_STORE must be 'local' or 's3'/,
    );
    for (const bad of ['lots', '1.5', '-1', '64MiB']) {
      expect(() => loadTranscriptStoreSettings({ TRANSCRIPT_CACHE_BYTES: bad })).toThrow(/TRANSCRIPT_CACHE_BYTES/);
    }
  });
});
