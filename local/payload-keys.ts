import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  newPayloadKeyJson,
  parsePayloadKeys,
  PayloadKeyError,
  type PayloadKeySet,
  type PayloadKeySetJson,
} from '../temporal-client/payload-encryption.ts';
import type { Environment } from '../config/load-settings.ts';
import { ensurePrivateDirectory, ensurePrivateFile, writeJsonFile } from './json-file.ts';

/** Where the local programs keep their payload keys. */
export const payloadKeysFile = (dataDir: string) => join(dataDir, 'payload-keys.json');

/**
 * The payload keys of the local programs: `PAYLOAD_KEYS` when set (the same JSON as the
 * deployment's secret, to reach a deployment's Temporal), else the key file under the data
 * directory, made on the first start (0600 in a 0700 directory). Every local program on one
 * data directory shares it, so `npm start`, `npm run ask` and `npm run chat` read each other's
 * histories.
 */
export function localPayloadKeys(env: Environment, dataDir: string): PayloadKeySet {
  if (env.PAYLOAD_KEYS?.trim()) return parsePayloadKeys(env.PAYLOAD_KEYS, 'PAYLOAD_KEYS');
  const file = payloadKeysFile(dataDir);
  ensurePrivateDirectory(dataDir);
  ensurePrivateFile(file);
  const kept = readKeyFile(file);
  if (kept !== undefined) return parsePayloadKeys(kept, file);
  const created: PayloadKeySetJson = { keys: [newPayloadKeyJson(keyId(new Date()))] };
  writeJsonFile(file, created, { mode: 0o600 });
  return parsePayloadKeys(JSON.stringify(created), file);
}

/** For a program's entry: the keys of PAYLOAD_KEYS or of DATA_DIR's key file, or one line naming the fix and exit code 1. */
export function localPayloadKeysOrExit(env: Environment): PayloadKeySet {
  try {
    return localPayloadKeys(env, env.DATA_DIR?.trim() || '.data');
  } catch (error) {
    if (!(error instanceof PayloadKeyError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

/**
 * Puts a new key first in the key file: new payloads are sealed with it, and the older keys
 * stay to open what they sealed. Returns the new key's id.
 */
export function rotateLocalPayloadKey(dataDir: string, now = new Date()): string {
  const file = payloadKeysFile(dataDir);
  const text = readKeyFile(file);
  // Checked first: a damaged file is reported, never overwritten with its keys lost.
  if (text !== undefined) parsePayloadKeys(text, file);
  const kept = text === undefined ? { keys: [] } : (JSON.parse(text) as PayloadKeySetJson);
  let id = keyId(now);
  for (let n = 2; kept.keys.some((key) => key.id === id); n += 1) id = `${keyId(now)}.${n}`;
  ensurePrivateDirectory(dataDir);
  writeJsonFile(file, { keys: [newPayloadKeyJson(id), ...kept.keys] }, { mode: 0o600 });
  return id;
}

/** The key file's text; undefined when there is none yet. */
function readKeyFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A key id that says when the key was made: `local-2026-12-07`. */
function keyId(now: Date): string {
  return `local-${now.toISOString().slice(0, 10)}`;
}
