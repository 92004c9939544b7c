import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createTranscriptStore } from '../../store/create-store.ts';
import { loadTranscriptStoreSettings } from '../../config/transcript-store-settings.ts';
import { MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../../testkit/moto.ts';

let moto: MotoServer;
let directory: string;

beforeAll(async () => {
  moto = await startMoto();
  directory = await mkdtemp(join(tmpdir(), 'transcripts-config-'));
});
afterAll(async () => {
  await moto?.stop();
  await rm(directory, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

it('creates a cached local store in TRANSCRIPT_DIR by default', async () => {
  const store = createTranscriptStore(loadTranscriptStoreSettings({ TRANSCRIPT_DIR: directory, TRANSCRIPT_CACHE_BYTES: '1000' }));
  const ref = await store.put({ role: 'user', parts: [{ text: 'hi' }] });
  expect(await readdir(join(directory, 'messages'))).toEqual([ref.slice('sha256:'.length, 'sha256:'.length + 2)]);
  expect(store.stats()).toMatchObject({ maxBytes: 1000, entries: 1 });
});

it('creates an S3 store whose client finds the endpoint in AWS_ENDPOINT_URL_S3, as the SDK does, even on a localhost name', async () => {
  const bucket = 'transcripts-from-env';
  const admin = new S3Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint, forcePathStyle: true });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  // The SDK reads these from the process environment itself; nothing here passes them on.
  const endpoint = moto.endpoint.replace('127.0.0.1', 'localhost');
  vi.stubEnv('AWS_ENDPOINT_URL_S3', endpoint);
  vi.stubEnv('AWS_REGION', MOTO_CLIENT_CONFIG.region);
  vi.stubEnv('AWS_ACCESS_KEY_ID', MOTO_CLIENT_CONFIG.credentials.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', MOTO_CLIENT_CONFIG.credentials.secretAccessKey);
  vi.stubEnv('AWS_PROFILE', '');

  const store = createTranscriptStore(
    loadTranscriptStoreSettings({ ...process.env, TRANSCRIPT_STORE: 's3', TRANSCRIPT_BUCKET: bucket, TRANSCRIPT_PREFIX: 'team-a' }),
  );
  const message = { role: 'model', parts: [{ text: 'stored in S3' }] };
  const ref = await store.put(message);
  store.clear();
  expect(await store.get(ref)).toEqual(message);
  const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
  expect(listed.Contents?.map((object) => object.Key)).toEqual([`team-a/messages/${ref.slice(7, 9)}/${ref.slice(9)}.json`]);
  admin.destroy();
});
