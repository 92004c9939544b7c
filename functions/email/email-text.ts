/**
 * Turns a parsed message's body into the text an agent reads: the new part of a reply, as
 * plain text, bounded. Heuristics stay simple on purpose: a missed quote costs a few tokens,
 * a wrong cut loses what the person wrote.
 */

import { forwardSearch } from '../../core/forward-search.ts';

export type BodyText = { text: string } | { problem: string };

const ACTIVE_HTML = /<script\b|<iframe\b|<object\b|<embed\b|\bjavascript:|\son[a-z]+\s*=/i;

/** Plain text of the body: the text part, or the HTML part made plain when it is all there is. */
export function bodyText(parts: { text?: string | undefined; html?: string | undefined }): BodyText {
  if (parts.html !== undefined && ACTIVE_HTML.test(parts.html))
    return { problem: 'HTML body contains active content (script, handlers or frames)' };
  const text = parts.text ?? (parts.html === undefined ? '' : htmlToText(parts.html));
  if (!isReadable(text)) return { problem: 'body is not readable text (binary or invalid UTF-8)' };
  return { text };
}

/** Drops `> quoted` lines and everything from an "On … wrote:" or "Original Message" line on. */
export function stripQuotedReply(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    const next = lines[index + 1] ?? '';
    // Mail clients wrap a long attribution line, so "wrote:" may end the next line.
    if (/^On\s.+\swrote:\s*$/.test(line) || (/^On\s/.test(line) && /(^|\s)wrote:\s*$/.test(next))) break;
    if (/^-{2,}\s*Original Message\s*-{2,}\s*$/i.test(line) || line === '-- ') break;
    if (line.startsWith('>')) continue;
    kept.push(line);
  }
  return kept.join('\n').trim();
}

/** Keeps the first `maxChars` characters and says how many were cut. */
export function capText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n[… ${text.length - maxChars} more characters not shown]`;
}

/** Elements whose whole content is dropped: styles, the head, quoted earlier messages. */
const SKIPPED_ELEMENTS = new Set(['style', 'head', 'blockquote', 'script', 'title']);
/** Elements that end a line. */
const LINE_ENDS = new Set(['br', 'p', 'div', 'li', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const ENTITIES: Record<string, string> = { nbsp: ' ', lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' };

/**
 * HTML → text in one pass, linear in the input whatever it holds: each search for a `>`, a
 * `-->` or a closing tag resumes where the last one ended, so runs of `<`, unclosed comments
 * and unclosed elements cost no more than reading them once.
 */
export function htmlToText(html: string): string {
  const output: string[] = [];
  const lower = html.toLowerCase().length === html.length ? html.toLowerCase() : html.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
  const nextGreater = forwardSearch((from) => html.indexOf('>', from));
  const nextCommentEnd = forwardSearch((from) => html.indexOf('-->', from));
  const closers = new Map<string, ReturnType<typeof forwardSearch>>();
  let index = 0;
  let textStart = 0;
  while (index < html.length) {
    const open = html.indexOf('<', index);
    if (open < 0) break;
    if (html.startsWith('<!--', open)) {
      output.push(html.slice(textStart, open));
      const end = nextCommentEnd(open + 4);
      index = textStart = end < 0 ? html.length : end + 3;
      continue;
    }
    const name = /^<\/?([a-z][a-z0-9]{0,15})/.exec(lower.slice(open, open + 18))?.[1];
    const close = name === undefined ? -1 : nextGreater(open + 1);
    if (name === undefined || close < 0) {
      index = open + 1;
      continue;
    }
    output.push(html.slice(textStart, open));
    const closing = html[open + 1] === '/';
    index = textStart = close + 1;
    if (!closing && SKIPPED_ELEMENTS.has(name)) {
      let search = closers.get(name);
      if (!search) {
        const pattern = new RegExp(`</${name}\\s*>`, 'g');
        search = forwardSearch((from) => {
          pattern.lastIndex = from;
          const match = pattern.exec(lower);
          return match ? match.index + match[0].length : -1;
        });
        closers.set(name, search);
      }
      const end = search(index);
      index = textStart = end < 0 ? html.length : end;
      continue;
    }
    if (LINE_ENDS.has(name) && (closing || name === 'br')) output.push('\n');
  }
  output.push(html.slice(textStart));
  return output
    .join('')
    .replace(/&(nbsp|lt|gt|quot|#39|amp);/g, (_entity, name: string) => ENTITIES[name] as string)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Replacement characters and C0 controls (other than tab and newlines) mark binary or mis-decoded text. */
function isReadable(text: string): boolean {
  const suspicious = text.match(/[\uFFFD\u0000-\u0008\u000B\u000E-\u001F]/g)?.length ?? 0;
  return suspicious <= Math.max(2, text.length * 0.01);
}
