import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { signRequest } from '../../functions/shared/aws-signature.ts';

type Source = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: Source) =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** The Hash shape the SDK's signer takes, on node:crypto. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: Source) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: Source) {
    this.hash.update(bytesOf(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

describe('Signature Version 4 for the edge’s SendMessage', () => {
  it.each([
    ['without a session token', undefined],
    ['with a session token', 'IQoJb3JpZ2luX2VjEXAMPLETOKEN'],
  ])('signs exactly as the AWS SDK’s own signer does, %s', async (_label, sessionToken) => {
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      ...(sessionToken ? { sessionToken } : {}),
    };
    const now = new Date('2026-11-22T01:02:03.456Z');
    const body = JSON.stringify({
      QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingress.fifo',
      MessageBody: '{"a":1}',
      MessageGroupId: 'g',
      MessageDeduplicationId: 'd',
    });
    const url = new URL('https://sqs.eu-west-1.amazonaws.com/');
    const ours = signRequest({
      url,
      body,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
      region: 'eu-west-1',
      service: 'sqs',
      credentials,
      now,
    });
    const sdk = new SignatureV4({ credentials, region: 'eu-west-1', service: 'sqs', sha256: NodeSha256, applyChecksum: false });
    const signed = await sdk.sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: url.hostname,
        path: '/',
        headers: { host: url.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
        body,
      },
      { signingDate: now },
    );
    expect(ours.authorization).toBe(signed.headers.authorization);
    expect(ours['x-amz-date']).toBe(signed.headers['x-amz-date']);
    if (sessionToken) expect(ours['x-amz-security-token']).toBe(sessionToken);
  });
});
