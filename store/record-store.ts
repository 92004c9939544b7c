import { createHash } from 'node:crypto';
import type * as z from 'zod';
import type { RecordFiles } from './record-files.ts';

/** One kind of record: where a record of it lives, by key, and what it must hold. */
export interface RecordKind<Key, Value> {
  /** The record's path among the record files (`hashedPath` keeps outside strings out of paths). */
  path(key: Key): string;
  /** Checked on every write and every read. */
  schema: z.ZodType<Value>;
  /**
   * A stored record that is not JSON or fails the schema: an error naming it (the default; a
   * retry passes once someone repairs it), or read as absent where another writer's bad record
   * must not stop the reader.
   */
  unreadable?: 'error' | 'absent';
}

/**
 * Typed JSON records by key over record files (a folder, S3 or memory: `recordFilesFor`). A
 * store module names its kind (key layout and schema) and builds its operations on these three.
 */
export interface RecordStore<Key, Value> {
  get(key: Key): Promise<Value | undefined>;
  /** Replaces the record whole (readers never see half a record); the last writer wins. */
  put(key: Key, value: Value): Promise<void>;
  /**
   * Writes only if no record is under `key`: true when this call created it. Of callers racing
   * on one key exactly one gets true (a hard link in a folder, `If-None-Match: *` in S3).
   */
  createIfAbsent(key: Key, value: Value): Promise<boolean>;
}

export function createRecordStore<Key, Value>(files: RecordFiles, kind: RecordKind<Key, Value>): RecordStore<Key, Value> {
  const encode = (value: Value) => JSON.stringify(kind.schema.parse(value));
  return {
    async get(key) {
      const path = kind.path(key);
      const text = await files.read(path);
      if (text === undefined) return undefined;
      const json = parseJson(text);
      const parsed = json.ok ? kind.schema.safeParse(json.value) : undefined;
      if (parsed?.success) return parsed.data;
      if (kind.unreadable === 'absent') return undefined;
      const why = parsed ? `${parsed.error.issues[0]?.path.join('.') || 'the record'}: ${parsed.error.issues[0]?.message}` : 'not JSON';
      throw new Error(`The record ${path} is unreadable (${why}); repair or remove it.`);
    },
    async put(key, value) {
      await files.write(kind.path(key), encode(value));
    },
    createIfAbsent: async (key, value) => files.create(kind.path(key), encode(value)),
  };
}

/** Hex SHA-256 of `text`: record paths are named by it, so no outside string becomes a path. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `folder/ab/cdef….json`, by the SHA-256 of `id`: two levels, so no folder grows too large. */
export function hashedPath(folder: string, id: string, suffix = '.json'): string {
  const digest = sha256Hex(id);
  return `${folder}/${digest.slice(0, 2)}/${digest.slice(2)}${suffix}`;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
