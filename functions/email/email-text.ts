/**
 * Turns a parsed message's body into the text an agent reads: the new part of a reply, as
 * plain text, bounded. Heuristics stay simple on purpose: a missed quote costs a few tokens,
 * a wrong cut loses what the person wrote.
 */

export type BodyText = { text: string } | { problem: string };

const ACTIVE_HTML = /<script\b|<iframe\b|<object\b|<embed\b|\bjavascript:|\son[a-z]+\s*=/i;

/** Plain text of the body: the text part, or the HTML part made plain when it is all there is. */
export function bodyText(parts: { text?: string | undefined; html?: string | undefined }): BodyText {
  if (parts.html !== undefined && ACTIVE_HTML.test(parts.html)) return { problem: 'HTML body contains active content (script, handlers or frames)' };
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

function htmlToText(html: string): string {
  return html
    .replace(/<(style|head)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<blockquote\b[\s\S]*?<\/blockquote\s*>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|tr|h[1-6])\s*>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Replacement characters and C0 controls (other than tab and newlines) mark binary or mis-decoded text. */
function isReadable(text: string): boolean {
  const suspicious = text.match(/[\uFFFD\u0000-\u0008\u000B\u000E-\u001F]/g)?.length ?? 0;
  return suspicious <= Math.max(2, text.length * 0.01);
}
