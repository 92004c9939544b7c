import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomically } from './atomic-file.ts';
import { checkContentType, decodeMessage, encodeBytes, encodeMessage, mapWithConcurrency, objectPath, verify } from './content-address.ts';
import { MessageNotFoundError } from './errors.ts';
import { DEFAULT_CONCURRENCY, type StoredBlob, type TranscriptStore } from './transcript-store.ts';

export interface LocalDirectoryStoreOptions {
  /** Root folder; relative paths resolve against the working directory once, at creation. @default '.data/transcripts' */
  directory?: string;
  /** Files read or written at once by `getMany` and `putMany`. @default 16 */
  concurrency?: number;
}

/**
 * A transcript store in a folder: `messages/ab/cdef….json` holds a message's canonical
 * JSON, `blobs/ab/cdef…` a blob's bytes and `blobs/ab/cdef….type` its content type.
 * Files are written to `.tmp/` and renamed into place, so a reader sees a whole file or
 * none, and writers racing on the same content all succeed with one file left.
 */
export function createLocalDirectoryStore(options: LocalDirectoryStoreOptions = {}): TranscriptStore {
  const root = resolve(options.directory ?? '.data/transcripts');
  const temporaryDirectory = join(root, '.tmp');
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const where = `the transcript directory ${root}`;

  async function writeOnce(path: string, bytes: Uint8Array | string): Promise<void> {
    if (await exists(path)) return;
    // A racing writer of the same ref writes the same bytes: whichever rename lands last, the file is whole and right.
    await writeFileAtomically(path, bytes, temporaryDirectory);
  }

  async function read(path: string, ref: string): Promise<Buffer> {
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MessageNotFoundError(ref, where);
      throw error;
    }
  }

  const store: TranscriptStore = {
    async put(message) {
      const { ref, bytes } = encodeMessage(message);
      await writeOnce(join(root, objectPath('message', ref)), bytes);
      return ref;
    },
    putMany: (messages) => mapWithConcurrency(messages, concurrency, (message) => store.put(message)),
    async get<T>(ref: string) {
      const bytes = await read(join(root, objectPath('message', ref)), ref);
      return decodeMessage<T>(ref, bytes, where);
    },
    getMany: <T>(refs: string[]) => mapWithConcurrency(refs, concurrency, (ref) => store.get<T>(ref)),
    async putBlob(bytes, contentType) {
      checkContentType(contentType);
      const { ref } = encodeBytes(bytes);
      const path = join(root, objectPath('blob', ref));
      // The type first: once the bytes are visible, so is their type.
      await writeOnce(`${path}.type`, contentType);
      await writeOnce(path, bytes);
      return ref;
    },
    async getBlob(ref): Promise<StoredBlob> {
      const path = join(root, objectPath('blob', ref));
      const bytes = await read(path, ref);
      verify(ref, bytes, where);
      const contentType = (await read(`${path}.type`, ref)).toString('utf8');
      return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), contentType };
    },
  };
  return store;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
