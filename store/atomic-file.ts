import { randomUUID } from 'node:crypto';
import { link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Writes a whole file or none: to a temporary file in `temporaryDirectory` (on the same
 * filesystem as `path`), flushed, then renamed into place. A reader never sees a partial
 * file, and writers racing on the same path each leave one whole file.
 */
export function writeFileAtomically(path: string, data: Uint8Array | string, temporaryDirectory: string): Promise<void> {
  return placeFromTemporary(path, data, temporaryDirectory, (temporary) => rename(temporary, path));
}

/**
 * Writes a whole file only if none is at `path`: true when this call created it. The file is
 * written aside and hard-linked into place, which fails when the name exists, so of writers
 * racing on one path exactly one gets true, and a reader never sees a partial file.
 */
export function createFileAtomically(path: string, data: Uint8Array | string, temporaryDirectory: string): Promise<boolean> {
  return placeFromTemporary(path, data, temporaryDirectory, async (temporary) => {
    try {
      await link(temporary, path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  });
}

/** Writes `data` to a fresh temporary file, has `place` put it at `path`, and leaves no temporary file behind. */
async function placeFromTemporary<T>(
  path: string,
  data: Uint8Array | string,
  temporaryDirectory: string,
  place: (temporary: string) => Promise<T>,
): Promise<T> {
  await Promise.all([mkdir(dirname(path), { recursive: true }), mkdir(temporaryDirectory, { recursive: true })]);
  const temporary = join(temporaryDirectory, randomUUID());
  try {
    // flush: an fsync before the rename or link, so a power cut cannot leave an empty file under a final name.
    await writeFile(temporary, data, { flush: true });
    return await place(temporary);
  } finally {
    // After a rename there is nothing left to remove; after a link, or a failure, the temporary name goes.
    await rm(temporary, { force: true });
  }
}
