import { defaultPayloadConverter, type DataConverter, type Payload } from '@temporalio/common';
import { createEncryptionCodec, parsePayloadKeys } from '../temporal-client/payload-encryption.ts';

/** The payload keys every worker process a test starts (worker/main.ts) is given as PAYLOAD_KEYS. */
export const TEST_PAYLOAD_KEYS_JSON = JSON.stringify({ keys: [{ id: 'test', key: Buffer.alloc(32, 7).toString('base64') }] });
export const TEST_PAYLOAD_KEYS = parsePayloadKeys(TEST_PAYLOAD_KEYS_JSON, 'the test payload keys');

const codec = createEncryptionCodec(TEST_PAYLOAD_KEYS);

/**
 * The test client's converter: it opens what worker processes (encrypting, as in production)
 * write, and writes in clear, as the in-process test workers do, so tests can read their
 * histories' payloads. test/local/encrypted-history.test.ts and test/replay/encrypted-replay.test.ts
 * cover the encrypted path end to end.
 */
export const testDataConverter: DataConverter = {
  payloadCodecs: [{ encode: async (payloads) => payloads, decode: (payloads) => codec.decode(payloads) }],
};

/** A payload as the test client reads it: opened with the test keys when a worker process sealed it, then decoded from JSON. */
export async function openTestPayload(payload: Payload): Promise<unknown> {
  const [opened] = await codec.decode([payload]);
  return defaultPayloadConverter.fromPayload(opened!);
}
