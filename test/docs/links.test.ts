import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every link and image in README.md and docs/**/*.md resolves: a relative link names a file
// that exists, a #anchor names a heading of its page (GitHub's slugs), and an http(s) link is
// at least a well-formed URL. No network: external links are checked for form only.

const ROOT = resolve(import.meta.dirname, '../..');

function markdownFiles(root: string): string[] {
  const docs = join(root, 'docs');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.md') ? [join(dir, entry.name)] : [],
    );
  return [join(root, 'README.md'), ...(existsSync(docs) ? walk(docs) : [])].filter((file) => existsSync(file));
}

/** The text with fenced code blocks and inline code blanked out, so code is never read as a link. */
function withoutCode(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`+[^`\n]*`+/g, '');
}

export function linkTargets(text: string): string[] {
  const prose = withoutCode(text);
  const targets: string[] = [];
  // [text](target) and ![alt](target), with an optional "title"; <target> form too.
  for (const match of prose.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1] ?? '');
  // [label]: target reference definitions.
  for (const match of prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(match[1] ?? '');
  // HTML images and anchors.
  for (const match of prose.matchAll(/<(?:img|a)\s[^>]*?(?:src|href)="([^"]*)"/g)) targets.push(match[1] ?? '');
  return targets;
}

/** GitHub's heading ids: the heading's text, lower case, punctuation removed, spaces to '-', repeats numbered. */
export function headingSlugs(text: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  const withoutFences = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of withoutFences.matchAll(/^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/gm)) {
    const plain = (match[1] ?? '')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text only
      .replace(/<[^>]+>/g, '')
      .replace(/[`*~]/g, '');
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

/** One line per link that does not resolve, naming the file and the link. */
export function brokenLinks(root: string): string[] {
  const problems: string[] = [];
  for (const file of markdownFiles(root)) {
    const where = relative(root, file);
    for (const target of linkTargets(readFileSync(file, 'utf8'))) {
      if (/^https?:/i.test(target)) {
        let url: URL | undefined;
        try {
          url = new URL(target);
        } catch {
          url = undefined;
        }
        if (!url || !url.hostname.includes('.')) problems.push(`${where}: malformed URL ${target}`);
        continue;
      }
      if (/^mailto:/i.test(target)) continue;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
        problems.push(`${where}: unsupported link scheme ${target}`);
        continue;
      }
      if (target === '') {
        problems.push(`${where}: empty link`);
        continue;
      }
      const [path = '', anchor] = target.split('#', 2);
      const targetFile = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!existsSync(targetFile)) {
        problems.push(`${where}: ${target} names no file (${relative(root, targetFile)})`);
        continue;
      }
      if (
        anchor !== undefined &&
        targetFile.endsWith('.md') &&
        !headingSlugs(readFileSync(targetFile, 'utf8')).has(decodeURIComponent(anchor))
      ) {
        problems.push(`${where}: ${target} names no heading of ${relative(root, targetFile)}`);
      }
    }
  }
  return problems;
}

describe('documentation links', () => {
  it('every link and image in README.md and docs/ resolves', () => {
    expect(markdownFiles(ROOT).length).toBeGreaterThan(1);
    expect(brokenLinks(ROOT)).toEqual([]);
  });

  it('finds a missing file, a missing heading, a malformed URL, and ignores code', () => {
    const root = mkdtempSync(join(tmpdir(), 'doc-links-'));
    try {
      writeFileSync(
        join(root, 'README.md'),
        [
          '# Title',
          '## Quick start: `npm start`!',
          '## Quick start: `npm start`!',
          '[ok](#quick-start-npm-start) [ok too](#quick-start-npm-start-1) [self](README.md#title)',
          '[gone](docs/missing.md) [bad anchor](#nowhere) [bad url](https://) ![img](pic.png)',
          '<img src="also-missing.png" alt="">',
          '`[in code](nowhere.md)`',
          '```',
          '[in a block](nowhere.md)',
          '```',
          '[external](https://example.com/page#part) [mail](mailto:a@example.com)',
        ].join('\n'),
      );
      writeFileSync(join(root, 'pic.png'), '');
      expect(brokenLinks(root)).toEqual([
        'README.md: docs/missing.md names no file (docs/missing.md)',
        'README.md: #nowhere names no heading of README.md',
        'README.md: malformed URL https://',
        'README.md: also-missing.png names no file (also-missing.png)',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('makes the heading ids GitHub makes', () => {
    const slugs = headingSlugs(
      "# Safe deploys with worker versioning\n## `npm run schedules`, and the sync at a worker's start\n### Why 1.x (not -v2)?\n",
    );
    expect([...slugs]).toEqual([
      'safe-deploys-with-worker-versioning',
      'npm-run-schedules-and-the-sync-at-a-workers-start',
      'why-1x-not--v2',
    ]);
  });
});
