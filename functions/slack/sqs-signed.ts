import { signRequest, type AwsCredentials } from '../shared/aws-signature.ts';

export interface SignedSqsOptions {
  region: string;
  credentials: () => AwsCredentials;
  /** SQS endpoint; by default the queue URL's origin (which is the regional endpoint). */
  endpoint?: string;
}

/**
 * One SQS API call (JSON protocol) signed with Signature Version 4 over `fetch`. The edge
 * sends one kind of request; loading the whole AWS SDK for it costs more at a cold start
 * than the rest of the function (see `npm run bench -- ingress`).
 */
export function createSignedSqsCall(options: SignedSqsOptions) {
  return async function call(target: string, queueUrl: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    const url = new URL('/', options.endpoint ?? new URL(queueUrl).origin);
    const body = JSON.stringify({ QueueUrl: queueUrl, ...input });
    const headers = signRequest({
      url,
      body,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${target}` },
      region: options.region,
      service: 'sqs',
      credentials: options.credentials(),
      now: new Date(),
    });
    const response = await fetch(url, { method: 'POST', headers, body, ...(signal ? { signal } : {}) });
    const text = await response.text();
    if (!response.ok) {
      const detail = safeJson(text) as { __type?: string; message?: string; Message?: string } | undefined;
      const type = detail?.__type?.split('#').pop() ?? `HTTP ${response.status}`;
      throw new Error(`SQS ${target} failed: ${type}: ${detail?.message ?? detail?.Message ?? text.slice(0, 200)}`);
    }
    return safeJson(text);
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
