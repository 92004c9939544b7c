import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createEncryptionCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  newPayloadKeyJson,
  parsePayloadKeys,
  PayloadKeyError,
  payloadKeysSetting,
} from '../../temporal-client/payload-encryption.ts';
import { localPayloadKeys, payloadKeysFile, rotateLocalPayloadKey } from '../../local/payload-keys.ts';

const keySet = (...ids: string[]) => parsePayloadKeys(JSON.stringify({ keys: ids.map((id) => newPayloadKeyJson(id)) }), 'test keys');
const text = (payload: Payload) =>
  new TextDecoder().decode(payload.data ?? new Uint8Array()) +
  Object.values(payload.metadata ?? {})
    .map((value) => new TextDecoder().decode(value))
    .join('');
const message = defaultPayloadConverter.toPayload({ text: 'Please email alice@example.com the Q3 numbers', args: { amount: 250 } });

describe('the payload codec', () => {
  it('seals a payload so nothing of it is readable, and opens it again', async () => {
    const codec = createEncryptionCodec(keySet('k1'));
    const [sealed] = await codec.encode([message]);
    expect(new TextDecoder().decode(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(new TextDecoder().decode(sealed!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(text(sealed!)).not.toMatch(/alice|Q3|amount|json/);
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual({
      text: 'Please email alice@example.com the Q3 numbers',
      args: { amount: 250 },
    });
  });

  it('after a rotation, seals with the newest key and still opens what the older one sealed', async () => {
    const before = keySet('2026-11');
    const [old] = await createEncryptionCodec(before).encode([message]);
    const rotated = [...keySet('2026-12'), ...before] as unknown as typeof before;
    const codec = createEncryptionCodec(rotated);
    const [fresh] = await codec.encode([message]);
    expect(new TextDecoder().decode(fresh!.metadata![KEY_ID_METADATA])).toBe('2026-12');
    const opened = await codec.decode([old!, fresh!]);
    expect(opened.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([
      defaultPayloadConverter.fromPayload(message),
      defaultPayloadConverter.fromPayload(message),
    ]);
  });

  it('keeps an empty payload (undefined) as bytes', async () => {
    const codec = createEncryptionCodec(keySet('k1'));
    const [opened] = await codec.decode(await codec.encode([defaultPayloadConverter.toPayload(undefined)]));
    expect(opened!.data).toBeInstanceOf(Uint8Array);
    expect(defaultPayloadConverter.fromPayload(opened!)).toBeUndefined();
  });

  it('passes unencrypted payloads through (histories recorded before the codec)', async () => {
    const [opened] = await createEncryptionCodec(keySet('k1')).decode([message]);
    expect(opened).toBe(message);
  });

  it('refuses a payload whose key was dropped, relabelled, or altered, naming why', async () => {
    const set = keySet('k1', 'k0');
    const codec = createEncryptionCodec(set);
    const [sealed] = await codec.encode([message]);
    // Dropped: the set no longer holds the key the payload names.
    await expect(createEncryptionCodec(keySet('k2')).decode([sealed!])).rejects.toThrow(/key "k1", which is not in the key set \(k2\)/);
    // Relabelled: the key id is authenticated, so another key of the set does not open it.
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('k0') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/does not authenticate with key "k0"/);
    // Altered: one flipped bit of the ciphertext.
    const altered = { ...sealed!, data: Uint8Array.from(sealed!.data!, (byte, index) => (index === 20 ? byte ^ 1 : byte)) };
    await expect(codec.decode([altered])).rejects.toThrow(PayloadKeyError);
  });

  it('reads a key set from its setting, with a one-line error for each mistake', () => {
    const setting = payloadKeysSetting('PAYLOAD_KEYS');
    expect(setting.safeParse(undefined).error?.issues[0]?.message).toMatch(/^PAYLOAD_KEYS is not set: the payload encryption keys/);
    expect(setting.safeParse('nope').error?.issues[0]?.message).toBe(
      'PAYLOAD_KEYS is not JSON; expected { "keys": [{ "id": "…", "key": "<32 bytes in base64>" }] }, newest first.',
    );
    expect(setting.safeParse(JSON.stringify({ keys: [{ id: 'k1', key: 'c2hvcnQ=' }] })).error?.issues[0]?.message).toBe(
      'PAYLOAD_KEYS is not a payload key set: keys.0.key: a key is 32 bytes in base64 (openssl rand -base64 32).',
    );
    expect(setting.safeParse(JSON.stringify({ keys: [newPayloadKeyJson('a'), newPayloadKeyJson('a')] })).error?.issues[0]?.message).toMatch(
      /two keys share an id/,
    );
    expect(setting.safeParse(JSON.stringify({ keys: [newPayloadKeyJson('k1')] })).data?.[0].id).toBe('k1');
  });
});

describe('the local key file', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'payload-keys-')), 'data');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is made on first use (0600 in a 0700 folder), kept, and rotated newest first', async () => {
    const first = localPayloadKeys({}, dataDir);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(payloadKeysFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(localPayloadKeys({}, dataDir).map((key) => key.id)).toEqual(first.map((key) => key.id));
    const [sealed] = await createEncryptionCodec(first).encode([message]);

    const id = rotateLocalPayloadKey(dataDir);
    const rotated = localPayloadKeys({}, dataDir);
    expect(rotated.map((key) => key.id)).toEqual([id, first[0].id]);
    expect(statSync(payloadKeysFile(dataDir)).mode & 0o777).toBe(0o600);
    const [opened] = await createEncryptionCodec(rotated).decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(defaultPayloadConverter.fromPayload(message));
  });

  it('npm run payload-keys lists and rotates the file', () => {
    const cli = (...args: string[]) => {
      const { PAYLOAD_KEYS: _unused, ...env } = process.env;
      return execFileSync(process.execPath, ['cli/payload-keys.ts', ...args], { env: { ...env, DATA_DIR: dataDir }, encoding: 'utf8' });
    };
    const before = localPayloadKeys({}, dataDir).map((key) => key.id);
    expect(cli('list').trim().split('\n')).toEqual([`${before[0]} (encrypts)`, ...before.slice(1)]);
    expect(cli('rotate')).toMatch(/^Key \S+ now encrypts new payloads; the older keys in .* still decode/);
    expect(
      localPayloadKeys({}, dataDir)
        .slice(1)
        .map((key) => key.id),
    ).toEqual(before);
  });

  it('takes PAYLOAD_KEYS over the file', () => {
    expect(localPayloadKeys({ PAYLOAD_KEYS: JSON.stringify({ keys: [newPayloadKeyJson('from-env')] }) }, dataDir)[0].id).toBe('from-env');
  });
});
