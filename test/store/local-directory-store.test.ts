import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createLocalDirectoryStore } from '../../store/local-directory-store.ts';
import { refOf } from '../../store/transcript-store.ts';
import { describeTranscriptStoreContract } from './transcript-store-contract.ts';

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'transcripts-'));
  directories.push(directory);
  return directory;
}

/** Every file under `root`, the temp folder included, so a leftover temp file fails the count. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

describeTranscriptStoreContract('local directory', async () => {
  const directory = await freshDirectory();
  return {
    store: createLocalDirectoryStore({ directory }),
    // A blob's content type lives beside it; count data files only, as S3 does.
    listObjects: async () => (await listFiles(directory)).filter((path) => !path.endsWith('.type')),
    tamper: async (kind, ref, bytes) => {
      const digest = ref.slice('sha256:'.length);
      const path =
        kind === 'message'
          ? join(directory, 'messages', digest.slice(0, 2), `${digest.slice(2)}.json`)
          : join(directory, 'blobs', digest.slice(0, 2), digest.slice(2));
      await writeFile(path, bytes);
    },
  };
});

it('lays files out as messages/ab/cdef….json and leaves no temp files, even when writers in separate stores race', async () => {
  const directory = await freshDirectory();
  const message = { role: 'user', parts: [{ text: 'hello' }] };
  const stores = Array.from({ length: 20 }, () => createLocalDirectoryStore({ directory }));
  const refs = await Promise.all(stores.flatMap((store) => Array.from({ length: 10 }, () => store.put(message))));
  const digest = (refs[0] as string).slice('sha256:'.length);
  expect(await listFiles(directory)).toEqual([join('messages', digest.slice(0, 2), `${digest.slice(2)}.json`)]);
});

it('stores the canonical JSON, sorted keys and no spaces, so the file hashes to its name', async () => {
  const directory = await freshDirectory();
  const store = createLocalDirectoryStore({ directory });
  await store.put({ role: 'user', parts: [{ text: 'hi', thought: false }] });
  const [path] = await listFiles(directory);
  expect(await readFile(join(directory, path as string), 'utf8')).toBe('{"parts":[{"text":"hi","thought":false}],"role":"user"}');
});

it('never shows a partly written file: readers racing writers see nothing or everything', async () => {
  const directory = await freshDirectory();
  const store = createLocalDirectoryStore({ directory });
  const messages = Array.from({ length: 20 }, (_, index) => ({ index, text: `${index}`.repeat(1024 * 1024) }));
  const outcomes = new Map<string, number>();
  let writing = true;
  const readers = messages.map(async (message) => {
    const ref = refOf(message);
    while (writing) {
      const outcome = await store.get(ref).then(
        () => 'whole',
        (error: Error) => error.name,
      );
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  });
  await Promise.all(messages.map((message) => store.put(message)));
  writing = false;
  await Promise.all(readers);
  expect([...outcomes.keys()].sort()).toEqual(expect.arrayContaining(['MessageNotFound']));
  expect([...outcomes.keys()].filter((outcome) => outcome !== 'whole' && outcome !== 'MessageNotFound')).toEqual([]);
});
