import { createHash, createHmac } from 'node:crypto';
import type { Environment } from '../../config/load-settings.ts';

/** Credentials as Lambda hands them to a function, in its environment. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  url: URL;
  body: string;
  headers: Record<string, string>;
  region: string;
  service: string;
  credentials: AwsCredentials;
  now: Date;
}

/**
 * Signature Version 4 headers for a POST with a body: what one AWS JSON-protocol call over
 * `fetch` needs. The functions make a handful of such calls at a cold start, where loading
 * an AWS SDK client costs more than the rest of the start (see `npm run bench -- ingress`).
 */
export function signRequest(input: SignInput): Record<string, string> {
  const amzDate = input.now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(input.headers).map(([name, value]) => [name.toLowerCase(), value.trim()])),
    host: input.url.host,
    'x-amz-date': amzDate,
    ...(input.credentials.sessionToken ? { 'x-amz-security-token': input.credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    'POST',
    input.url.pathname || '/',
    input.url.search.slice(1),
    names.map((name) => `${name}:${headers[name]}\n`).join(''),
    signedHeaders,
    sha256(input.body),
  ].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${input.credentials.secretAccessKey}`, day);
  for (const part of [input.region, input.service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  const { host: _host, ...sent } = headers;
  return {
    ...sent,
    authorization: `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** The function role's credentials, from the environment Lambda gives it; a missing one is named. */
export function credentialsFromEnvironment(env: Environment): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new Error('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them for the function role).');
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/**
 * The region and SQS endpoint the environment names, read as the AWS SDK reads them:
 * `AWS_REGION` (Lambda sets it) or `AWS_DEFAULT_REGION`, else us-east-1; an endpoint override
 * (`AWS_ENDPOINT_URL_SQS`, then `AWS_ENDPOINT_URL`) for a local SQS such as moto.
 */
export function sqsTargetFromEnvironment(env: Environment): { region: string; endpoint?: string } {
  const endpoint = env.AWS_ENDPOINT_URL_SQS?.trim() || env.AWS_ENDPOINT_URL?.trim();
  return { region: env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1', ...(endpoint ? { endpoint } : {}) };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}
