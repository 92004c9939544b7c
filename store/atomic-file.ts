import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Writes a whole file or none: to a temporary file in `temporaryDirectory` (on the same
 * filesystem as `path`), flushed, then renamed into place. A reader never sees a partial
 * file, and writers racing on the same path each leave one whole file.
 */
export async function writeFileAtomically(path: string, data: Uint8Array | string, temporaryDirectory: string): Promise<void> {
  await Promise.all([mkdir(dirname(path), { recursive: true }), mkdir(temporaryDirectory, { recursive: true })]);
  const temporary = join(temporaryDirectory, randomUUID());
  try {
    // flush: an fsync before the rename, so a power cut cannot leave an empty file under a final name.
    await writeFile(temporary, data, { flush: true });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
