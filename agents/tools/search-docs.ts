import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { defineTool } from '../../authoring/define-tool.ts';

export interface SearchDocsOptions {
  /** Folder of markdown files to search. */
  directory: string;
}

interface Section {
  file: string;
  heading: string;
  text: string;
}

/** Keyword search over a folder of markdown documents, section by section. */
export function createSearchDocsTool(options: SearchDocsOptions) {
  let sections: Promise<Section[]> | undefined;
  return defineTool({
    name: 'search_docs',
    readOnly: true,
    description: 'Searches the team handbook (markdown documents) and returns the best-matching sections.',
    input: z.object({
      query: z.string().min(1).max(300).describe('Words to look for, e.g. "on-call escalation".'),
      limit: z.number().int().min(1).max(10).default(3).describe('How many sections to return (1-10).'),
    }),
    timeout: '10 seconds',
    async handler({ query, limit }) {
      sections ??= loadSections(options.directory).catch((error: unknown) => {
        sections = undefined;
        throw error;
      });
      const terms = tokenize(query);
      const scored = (await sections)
        .map((section) => ({ section, score: score(section, terms) }))
        .filter(({ score }) => score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, limit);
      return {
        query,
        matches: scored.map(({ section, score }) => ({
          file: section.file,
          heading: section.heading,
          score: Number(score.toFixed(2)),
          excerpt: section.text.slice(0, 600),
        })),
      };
    },
  });
}

async function loadSections(directory: string): Promise<Section[]> {
  const files = (await readdir(directory)).filter((name) => name.endsWith('.md')).sort();
  const sections: Section[] = [];
  for (const file of files) {
    const body = await readFile(join(directory, file), 'utf8');
    let heading = file;
    let lines: string[] = [];
    const flush = () => {
      const text = lines.join('\n').trim();
      if (text) sections.push({ file, heading, text });
    };
    for (const line of body.split('\n')) {
      const match = /^#{1,6}\s+(.*)$/.exec(line);
      if (match) {
        flush();
        heading = match[1]!.trim();
        lines = [];
      } else {
        lines.push(line);
      }
    }
    flush();
  }
  return sections;
}

function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]{2,}/g) ?? [];
}

function score(section: Section, terms: string[]): number {
  const heading = tokenize(section.heading);
  const body = tokenize(section.text);
  let total = 0;
  for (const term of new Set(terms)) {
    const inBody = body.filter((word) => word.startsWith(term)).length;
    const inHeading = heading.filter((word) => word.startsWith(term)).length;
    total += Math.log1p(inBody) + 2 * inHeading;
  }
  return total;
}
