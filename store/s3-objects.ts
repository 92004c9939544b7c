import { PutObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';

/** A key prefix as the stores use it: no leading `/`, a trailing `/` unless empty. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

/** The HTTP status of an S3 error; read structurally, as a second copy of the SDK would fail `instanceof`. */
export function statusOf(error: unknown): number | undefined {
  const candidate = error as { name?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  if (candidate?.name === 'NoSuchKey') return 404;
  return candidate?.$metadata?.httpStatusCode;
}

/**
 * S3's conditional write (`If-None-Match: *`): true when this call created the object, false
 * when one was already there (412). A 409 means another conditional write of the same key is
 * in flight: tried again, `attempts` times in all, then thrown.
 */
export async function putObjectIfAbsent(
  client: S3Client,
  input: Omit<PutObjectCommandInput, 'IfNoneMatch'>,
  attempts: number,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(new PutObjectCommand({ ...input, IfNoneMatch: '*' }));
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412) return false;
      if (status !== 409 || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
