import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { AmbientCheck } from '../../core/ambient.ts';

/** Markdown files of the handbook read by one check. */
const MAX_FILES = 200;
/** Characters of a changed file shown to the model. */
const EXCERPT_CHARS = 400;

interface Listing {
  /** Relative path → first 16 hex of the SHA-256 of the content. */
  files: Record<string, string>;
}

/**
 * The handbook digest's check: lists the folder's markdown files with their content hashes
 * (and mtimes, for the prompt) and compares them with the cursor, the listing of the last
 * run. Nothing added, changed or removed: quiet, no model call. Otherwise the cursor is the
 * new listing and the prompt gets each change with the file's title and opening lines.
 */
export function createHandbookDigestCheck(options: { directory: string }): AmbientCheck {
  return async ({ cursor }) => {
    const current = await listHandbook(options.directory);
    const before = parseListing(cursor);
    const names = Object.keys(current.files).sort();
    const added = names.filter((name) => before && !(name in before.files));
    const changed = names.filter((name) => before && name in before.files && before.files[name] !== current.files[name]);
    const removed = before
      ? Object.keys(before.files)
          .filter((name) => !(name in current.files))
          .sort()
      : [];
    const next = JSON.stringify(current);
    if (before && added.length + changed.length + removed.length === 0) {
      return { quiet: true, reason: `no handbook file changed since the last run (${names.length} files)` };
    }
    const lines: string[] = [];
    if (!before) {
      lines.push(`First digest: the handbook has ${names.length} files.`);
      for (const name of names) lines.push(await describeFile(options.directory, name, 'in the handbook'));
    } else {
      lines.push(`Handbook changes since the last run: ${added.length} added, ${changed.length} changed, ${removed.length} removed.`);
      for (const name of added) lines.push(await describeFile(options.directory, name, 'added'));
      for (const name of changed) lines.push(await describeFile(options.directory, name, 'changed'));
      for (const name of removed) lines.push(`- removed: ${name}`);
    }
    return { quiet: false, cursor: next, context: lines.join('\n') };
  };
}

async function listHandbook(directory: string): Promise<Listing> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => relative(directory, join(entry.parentPath, entry.name)))
    .sort()
    .slice(0, MAX_FILES);
  const files: Record<string, string> = {};
  for (const name of names)
    files[name] = createHash('sha256')
      .update(await readFile(join(directory, name)))
      .digest('hex')
      .slice(0, 16);
  return { files };
}

function parseListing(cursor: string | undefined): Listing | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(cursor) as Listing;
    return typeof parsed?.files === 'object' && parsed.files !== null ? parsed : undefined;
  } catch {
    // A cursor of another shape (an older check): start afresh.
    return undefined;
  }
}

async function describeFile(directory: string, name: string, how: string): Promise<string> {
  const path = join(directory, name);
  const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
  const title = /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? name;
  const body = text.replace(/^#.*$/gm, '').replace(/\s+/g, ' ').trim().slice(0, EXCERPT_CHARS);
  return `- ${how}: ${name} "${title}" (modified ${info.mtime.toISOString()}): ${body}`;
}
