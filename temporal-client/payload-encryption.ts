import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import * as z from 'zod';
import { requiredText } from '../config/load-settings.ts';

/**
 * Payloads encrypted before they reach Temporal: every workflow input and result, activity
 * argument and result, signal, update, query answer, memo and failure detail the worker, the
 * dispatcher and the local programs write is sealed with AES-256-GCM. Temporal (Cloud or the
 * dev server) stores only ciphertext; the key stays with whoever runs the code.
 *
 * Key rotation: a key set lists keys newest first. The first encrypts; any decrypts the
 * payloads that name its id. A payload written without the codec (a history recorded before
 * it) has no `binary/encrypted` encoding and passes through as it is.
 */

/** The `encoding` metadata of an encrypted payload (the name Temporal's samples and codec servers use). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key that sealed a payload. */
export const KEY_ID_METADATA = 'encryption-key-id';
/** Metadata naming the cipher, so a later format can be told apart. */
export const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface PayloadKey {
  /** Short and stable (`2026-12`): written in clear in every payload's metadata. */
  id: string;
  /** 32 bytes. */
  key: Uint8Array;
}

/** Keys newest first: the first encrypts, all decrypt. */
export type PayloadKeySet = readonly [PayloadKey, ...PayloadKey[]];

/** A key set that cannot be used; the message is one line naming what to fix. */
export class PayloadKeyError extends Error {
  override name = 'PayloadKeyError';
}

/** The JSON a key set is kept as, in Secrets Manager (`PAYLOAD_KEYS`) and in `.data/payload-keys.json`. */
export const payloadKeySetSchema = z.object({
  keys: z
    .array(
      z.object({
        id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a key id is 1 to 64 letters, digits, dots, dashes or underscores'),
        key: z
          .string()
          .refine(
            (value) => Buffer.from(value, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(value),
            'a key is 32 bytes in base64 (openssl rand -base64 32)',
          ),
      }),
    )
    .min(1, 'the key set holds no key')
    .refine((keys) => new Set(keys.map((key) => key.id)).size === keys.length, 'two keys share an id'),
});
export type PayloadKeySetJson = z.infer<typeof payloadKeySetSchema>;

/** Reads a key set from its JSON; `where` names its source in the one-line error (`PAYLOAD_KEYS`, a file). */
export function parsePayloadKeys(json: string, where: string): PayloadKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new PayloadKeyError(`${where} is not JSON; expected { "keys": [{ "id": "…", "key": "<32 bytes in base64>" }] }, newest first.`);
  }
  const checked = payloadKeySetSchema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new PayloadKeyError(
      `${where} is not a payload key set: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}.`,
    );
  }
  return checked.data.keys.map((entry) => ({ id: entry.id, key: Buffer.from(entry.key, 'base64') })) as unknown as PayloadKeySet;
}

/** A setting holding a key set's JSON (`PAYLOAD_KEYS`), checked and parsed with the settings. */
export const payloadKeysSetting = (variable: string) =>
  requiredText(
    variable,
    'the payload encryption keys, JSON { "keys": [{ "id": "…", "key": "<32 bytes in base64>" }] } newest first (in AWS the PAYLOAD_KEYS secret)',
  ).transform((value, context): PayloadKeySet => {
    try {
      return parsePayloadKeys(value, variable);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

/**
 * The key set in a value that may change (a secret read again after a rotation): parsed
 * when the value changes, so each payload costs no parse.
 */
export function payloadKeysFrom(read: () => string, where: string): () => PayloadKeySet {
  let parsedFrom: string | undefined;
  let keys: PayloadKeySet | undefined;
  return () => {
    const raw = read();
    if (raw !== parsedFrom || !keys) {
      keys = parsePayloadKeys(raw, where);
      parsedFrom = raw;
    }
    return keys;
  };
}

/** A new key, as the key set's JSON holds it. */
export function newPayloadKeyJson(id: string): PayloadKeySetJson['keys'][number] {
  return { id, key: randomBytes(32).toString('base64') };
}

/**
 * The codec. `keys` is read at each call, so a key set read again (a rotated secret) applies
 * to the next payload without a new client.
 */
export function createEncryptionCodec(keys: PayloadKeySet | (() => PayloadKeySet)): PayloadCodec {
  const current = typeof keys === 'function' ? keys : () => keys;
  return {
    async encode(payloads) {
      const [key] = current();
      return payloads.map((payload) => encrypt(payload, key));
    },
    async decode(payloads) {
      const set = current();
      return payloads.map((payload) => decrypt(payload, set));
    },
  };
}

/** What a client (`new Client({ dataConverter })`) and a worker (`Worker.create({ dataConverter })`) take. */
export function encryptedDataConverter(keys: PayloadKeySet | (() => PayloadKeySet)): DataConverter {
  return { payloadCodecs: [createEncryptionCodec(keys)] };
}

/**
 * The worker's converter: the codec, and failures' messages and stack traces encoded (so
 * encrypted) too. For a worker that bundles its workflows (`workflowsPath`): the converter is
 * loaded by path, in the sandbox and for activities.
 */
export function encryptedWorkerDataConverter(keys: PayloadKeySet | (() => PayloadKeySet)): DataConverter {
  return { ...encryptedDataConverter(keys), failureConverterPath: fileURLToPath(new URL('./failure-converter.ts', import.meta.url)) };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encrypt(payload: Payload, key: PayloadKey): Payload {
  const plain = proto.temporal.api.common.v1.Payload.encode(payload).finish();
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  // The key id is authenticated: a payload relabelled with another id does not decrypt.
  cipher.setAAD(encoder.encode(key.id));
  const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: {
      encoding: encoder.encode(ENCRYPTED_ENCODING),
      [CIPHER_METADATA]: encoder.encode(CIPHER),
      [KEY_ID_METADATA]: encoder.encode(key.id),
    },
    data: sealed,
  };
}

function decrypt(payload: Payload, keys: PayloadKeySet): Payload {
  const encoding = payload.metadata?.encoding;
  if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
  const idBytes = payload.metadata?.[KEY_ID_METADATA];
  const id = idBytes ? decoder.decode(idBytes) : '';
  const key = keys.find((candidate) => candidate.id === id);
  if (!key)
    throw new PayloadKeyError(
      `A payload is encrypted with key "${id}", which is not in the key set (${keys.map((k) => k.id).join(', ')}); keep old keys in the set after a rotation.`,
    );
  const data = payload.data ?? new Uint8Array();
  if (data.length < IV_BYTES + TAG_BYTES)
    throw new PayloadKeyError(`An encrypted payload (key "${id}") is too short to hold its nonce and tag.`);
  const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, IV_BYTES));
  decipher.setAAD(encoder.encode(id));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PayloadKeyError(
      `An encrypted payload does not authenticate with key "${id}": the payload was altered, or the key under that id changed.`,
    );
  }
  const decoded = proto.temporal.api.common.v1.Payload.decode(plain);
  // protobufjs gives an absent bytes field its default, an empty array: the SDK expects bytes.
  const bytes = (value: Uint8Array | number[] | null | undefined) => (value instanceof Uint8Array ? value : Uint8Array.from(value ?? []));
  return {
    metadata: Object.fromEntries(Object.entries(decoded.metadata ?? {}).map(([name, value]) => [name, bytes(value)])),
    data: bytes(decoded.data),
  };
}
