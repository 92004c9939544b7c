import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createS3Store } from '../../store/s3-store.ts';
import { MOTO_CLIENT_CONFIG, startMotoBucket, type MotoBucket } from '../../testkit/moto.ts';
import { describeTranscriptStoreContract } from './transcript-store-contract.ts';

let moto: MotoBucket;
let client: S3Client;
const bucket = 'transcripts-test';

beforeAll(async () => {
  moto = await startMotoBucket(bucket);
  client = moto.client;
});

afterAll(() => moto?.stop());

async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => (object.Key as string).slice(prefix.length)));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

// Each test gets its own prefix in the one bucket: a fresh, empty store.
describeTranscriptStoreContract('S3 (moto)', async () => {
  const prefix = `runs/${randomUUID()}/`;
  return {
    store: createS3Store({ client, bucket, prefix }),
    listObjects: () => listKeys(prefix),
    tamper: async (kind, ref, bytes) => {
      const digest = ref.slice('sha256:'.length);
      const key =
        kind === 'message'
          ? `${prefix}messages/${digest.slice(0, 2)}/${digest.slice(2)}.json`
          : `${prefix}blobs/${digest.slice(0, 2)}/${digest.slice(2)}`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
    },
  };
});

it('keys objects under the prefix, adding the missing slash, with the JSON content type', async () => {
  const prefix = `runs/${randomUUID()}`;
  const store = createS3Store({ client, bucket, prefix });
  const ref = await store.put({ role: 'user', parts: [{ text: 'hi' }] });
  const digest = ref.slice('sha256:'.length);
  expect(await listKeys(`${prefix}/`)).toEqual([`messages/${digest.slice(0, 2)}/${digest.slice(2)}.json`]);
});

it('never overwrites: a second put of the same content is refused by S3 (412) and reported as success', async () => {
  const prefix = `runs/${randomUUID()}/`;
  const sent: { name: string; status?: number }[] = [];
  const counting = new S3Client({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint, forcePathStyle: true });
  counting.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        const result = await next(args);
        sent.push({ name: context.commandName as string, status: (result.response as { statusCode?: number }).statusCode });
        return result;
      } catch (error) {
        sent.push({
          name: context.commandName as string,
          status: (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
        });
        throw error;
      }
    },
    { step: 'deserialize', name: 'recordStatus' },
  );
  const store = createS3Store({ client: counting, bucket, prefix });
  const message = { role: 'model', parts: [{ text: 'done' }] };
  expect(await store.put(message)).toBe(await store.put(message));
  expect(sent).toEqual([
    { name: 'PutObjectCommand', status: 200 },
    { name: 'PutObjectCommand', status: 412 },
  ]);
  counting.destroy();
});
