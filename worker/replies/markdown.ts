/**
 * Model answers are Markdown; Slack speaks mrkdwn. Pure functions: conversion, and splitting
 * a long text into messages on paragraph boundaries.
 */

import { forwardSearch } from '../../core/forward-search.ts';

const FENCE = /^\s*(```|~~~)/;
const HEADING_START = /^\s{0,3}#{1,6}(?:\s+|$)/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const BULLET = /^(\s*)[-*+]\s+(?:\[( |x|X)\]\s+)?(.*)$/;
const ORDERED = /^(\s*)(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;

/** `&`, `<` and `>` are the three characters Slack asks every text to escape. */
export function escapeSlackText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Options of the conversion. */
export interface MrkdwnOptions {
  /**
   * Let the text mention people and groups (`<@U…>`, `<!subteam^…>`, `<!here>`, `<!channel>`,
   * `<!everyone>`, `<#C…>`). Off, every such sequence is shown as text and notifies nobody.
   * @default false
   */
  allowMentions?: boolean;
}

/**
 * Markdown → Slack mrkdwn: `**bold**` → `*bold*`, `*italic*` → `_italic_`, `~~gone~~` →
 * `~gone~`, `[text](url)` → `<url|text>`, headings → bold lines, bullets → `•`, tables →
 * code blocks. Code keeps its text (escaped, as Slack requires) and loses its language tag.
 * Model text is untrusted: it can produce no mention, no broadcast, and no link but http(s)
 * and mailto. Linear in the input: no pattern here backtracks over a line.
 */
export function markdownToMrkdwn(markdown: string, options: MrkdwnOptions = {}): string {
  const lines = markdown
    .replace(/[\uE000-\uE002]/g, '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  const output: string[] = [];
  let fence: string | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    const fenceMatch = FENCE.exec(line);
    if (fence !== undefined) {
      if (fenceMatch && fenceMatch[1] === fence && line.trim() === fence) {
        output.push('```');
        fence = undefined;
      } else output.push(escapeSlackText(line));
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1] as string;
      output.push('```');
      continue;
    }
    if (TABLE_ROW.test(line)) {
      const rows: string[] = [];
      while (index < lines.length && TABLE_ROW.test(lines[index] as string)) rows.push(escapeSlackText((lines[index++] as string).trim()));
      index--;
      output.push('```', ...rows, '```');
      continue;
    }
    output.push(convertLine(line, options));
  }
  if (fence !== undefined) output.push('```');
  return slackSafe(
    output
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim(),
    options,
  );
}

function convertLine(line: string, options: MrkdwnOptions): string {
  const heading = headingText(line);
  if (heading !== undefined) {
    // The whole heading is bold; bold inside it would only toggle it off.
    const text = convertInline(heading, options, '');
    return text === '' ? '' : `*${text}*`;
  }
  if (RULE.test(line)) return '──────────';
  const bullet = BULLET.exec(line);
  if (bullet) {
    const box = bullet[2] === undefined ? '' : bullet[2] === ' ' ? '☐ ' : '☑ ';
    return `${indent(bullet[1] as string)}• ${box}${convertInline(bullet[3] as string, options)}`;
  }
  const ordered = ORDERED.exec(line);
  if (ordered) return `${indent(ordered[1] as string)}${ordered[2]}. ${convertInline(ordered[3] as string, options)}`;
  const quote = QUOTE.exec(line);
  if (quote) return `> ${convertInline(quote[1] as string, options)}`;
  return convertInline(line, options);
}

/** `### Title ##` → `Title`; undefined when the line is not an ATX heading. */
function headingText(line: string): string | undefined {
  const match = HEADING_START.exec(line);
  if (!match) return undefined;
  let text = line.slice(match[0].length).trimEnd();
  const closing = /\s#+$/.exec(text.length > 200 ? text.slice(-200) : text);
  if (closing || /^#+$/.test(text)) text = /^#+$/.test(text) ? '' : text.slice(0, text.length - closing![0].length);
  return text.trim();
}

/** Nested lists: every two or more spaces of Markdown indent become four spaces in Slack. */
function indent(spaces: string): string {
  const depth = Math.floor(spaces.replace(/\t/g, '  ').length / 2);
  return '    '.repeat(depth);
}

const PROTECTED = /\uE000(\d+)\uE001/g;
const BOLD = '\uE002';

/**
 * Converts the inline syntax of one line. Code spans, links and (when allowed) mentions are
 * set aside first, so emphasis never reaches inside them; each step is one left-to-right scan.
 */
function convertInline(text: string, options: MrkdwnOptions, bold = BOLD): string {
  const kept: string[] = [];
  const keep = (value: string) => `\uE000${kept.push(value) - 1}\uE001`;
  let working = codeSpans(text, (code) => keep(`\`${escapeSlackText(code.trim())}\``));
  working = linksAndMentions(working, keep, options, bold);
  working = emphasis(escapeSlackText(working), bold);
  // Restore in reverse: a kept piece may itself hold an earlier one (a code span inside a link).
  for (let pass = 0; pass < 3 && working.includes('\uE000'); pass++) {
    working = working.replace(PROTECTED, (_match, index: string) => kept[Number(index)] ?? '');
  }
  return working;
}

/** Backtick runs pair with the next run of the same length (CommonMark); an unpaired run is text. */
function codeSpans(text: string, render: (code: string) => string): string {
  if (!text.includes('`')) return text;
  const runs: { start: number; length: number }[] = [];
  for (let index = text.indexOf('`'); index >= 0;) {
    let end = index;
    while (text[end] === '`') end++;
    runs.push({ start: index, length: end - index });
    index = text.indexOf('`', end);
  }
  if (runs.length < 2) return text;
  const nextSame = new Int32Array(runs.length).fill(-1);
  const lastOfLength = new Map<number, number>();
  for (let run = runs.length - 1; run >= 0; run--) {
    nextSame[run] = lastOfLength.get(runs[run]!.length) ?? -1;
    lastOfLength.set(runs[run]!.length, run);
  }
  let output = '';
  let copied = 0;
  for (let run = 0; run < runs.length; run++) {
    const closer = nextSame[run] as number;
    if (closer < 0) continue;
    const open = runs[run]!;
    const close = runs[closer]!;
    const code = text.slice(open.start + open.length, close.start);
    if (code.trim() === '') continue;
    output += text.slice(copied, open.start) + render(code);
    copied = close.start + close.length;
    run = closer;
  }
  return output + text.slice(copied);
}

const MENTION = /^<(?:@[UW][A-Z0-9]{2,20}|#C[A-Z0-9]{2,20}|!subteam\^[A-Z0-9]{2,20}|!here|!channel|!everyone)(?:\|[^<>\n]{0,80})?>/;
const AUTOLINK_SCHEME = /^<(https?|mailto):/i;

/**
 * `<https://…>` autolinks, `![alt](url)` images and `[label](url)` links, in one scan. Each
 * `]` is tried as the end of a link once (the brackets come in order), so runs of `[` or `<` stay linear.
 */
function linksAndMentions(text: string, keep: (value: string) => string, options: MrkdwnOptions, bold: string): string {
  if (!text.includes('<') && !text.includes('[')) return text;
  const nextBracket = forwardSearch((from) => text.indexOf(']', from));
  // A destination's end and its title's closing quote are forward searches too: `[a](` repeated
  // would otherwise read the rest of the text once per bracket.
  const searches: DestinationSearches = {
    urlEnd: forwardSearch((from) => {
      let index = from;
      while (index < text.length && !isUrlStop(text.charCodeAt(index))) index++;
      return index;
    }),
    quote: forwardSearch((from) => text.indexOf('"', from)),
  };
  // Brackets are asked in order, so remembering the last one answers every repeat.
  let lastBracket = -1;
  let lastDestination: { url: string; end: number } | undefined;
  const destinationAfter = (bracket: number) => {
    if (bracket !== lastBracket) {
      lastBracket = bracket;
      lastDestination = linkDestination(text, bracket + 1, searches);
    }
    return lastDestination;
  };
  let output = '';
  let copied = 0;
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    // Only `<`, `[` and `!` can start something; everything else is copied as it is.
    if (code !== 0x3c && code !== 0x5b && code !== 0x21) {
      index++;
      continue;
    }
    const char = text[index];
    if (char === '<') {
      const mention = options.allowMentions ? MENTION.exec(text.slice(index, index + 128)) : null;
      if (mention) {
        output += text.slice(copied, index) + keep(mention[0]);
        index = copied = index + mention[0].length;
        continue;
      }
      const scheme = text.charCodeAt(index + 1) | 0x20;
      if ((scheme === 0x68 || scheme === 0x6d) && AUTOLINK_SCHEME.test(text.slice(index, index + 10))) {
        let end = index + 1;
        while (end < text.length && !/[\s<>]/.test(text[end] as string)) end++;
        const url = text[end] === '>' ? safeUrl(text.slice(index + 1, end)) : undefined;
        if (url) {
          output += text.slice(copied, index) + keep(`<${url}>`);
          index = copied = end + 1;
          continue;
        }
        index = end;
        continue;
      }
    } else if (char === '[' || (char === '!' && text[index + 1] === '[')) {
      const open = char === '[' ? index : index + 1;
      const close = nextBracket(open + 1);
      const destination = close > open + 1 ? destinationAfter(close) : undefined;
      if (destination) {
        const label = text.slice(open + 1, close);
        const url = safeUrl(destination.url);
        const shown = char === '!' && label.trim() === '' ? '' : linkText(label, bold);
        const rendered = url ? (shown === '' ? `<${url}>` : `<${url}|${shown}>`) : `${shown} (${escapeSlackText(destination.url)})`;
        output += text.slice(copied, index) + keep(rendered);
        index = copied = destination.end;
        continue;
      }
    }
    index++;
  }
  return output + text.slice(copied);
}

interface DestinationSearches {
  /** The first position at or after `from` that cannot be part of a URL (text's length if none). */
  urlEnd: (from: number) => number;
  /** The first `"` at or after `from`, or -1. */
  quote: (from: number) => number;
}

/** What ends a link's URL: white space, `)`, `<` or `>`. */
function isUrlStop(code: number): boolean {
  return code === 0x29 || code === 0x3c || code === 0x3e || isSpace(code);
}

/** `(url)` or `( <url> "title" )` starting at `start`; undefined when it is not one. */
function linkDestination(text: string, start: number, searches: DestinationSearches): { url: string; end: number } | undefined {
  if (text[start] !== '(') return undefined;
  let index = start + 1;
  while (text[index] === ' ' || text[index] === '\t') index++;
  const angled = text[index] === '<';
  if (angled) index++;
  const urlStart = index;
  index = searches.urlEnd(index);
  if (index === urlStart) return undefined;
  const url = text.slice(urlStart, index);
  if (angled && text[index] === '>') index++;
  let afterUrl = index;
  while (text[afterUrl] === ' ' || text[afterUrl] === '\t') afterUrl++;
  if (afterUrl > index && text[afterUrl] === '"') {
    const quote = searches.quote(afterUrl + 1);
    if (quote < 0) return undefined;
    afterUrl = quote + 1;
    while (text[afterUrl] === ' ' || text[afterUrl] === '\t') afterUrl++;
  }
  return text[afterUrl] === ')' ? { url, end: afterUrl + 1 } : undefined;
}

/** The URL as a link target when it is http(s) or mailto; undefined otherwise. `|` would end it early, `<>` are not allowed in it. */
function safeUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!['http:', 'https:', 'mailto:'].includes(parsed.protocol)) return undefined;
  return url.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E');
}

function linkText(label: string, bold: string): string {
  return emphasis(escapeSlackText(label), bold).replace(/\|/g, '¦');
}

/** Markdown emphasis → Slack's, one linear pass per delimiter. */
function emphasis(text: string, bold: string = BOLD): string {
  let working = pairs(text, '***', (content) => `${bold}_${content}_${bold}`);
  working = pairs(working, '**', (content) => `${bold}${content}${bold}`);
  working = pairs(working, '__', (content) => `${bold}${content}${bold}`);
  working = singleStars(working);
  working = pairs(working, '~~', (content) => `~${content}~`);
  return bold === '' ? working : working.replaceAll(bold, '*');
}

/**
 * `<d>content<d>`, content not starting or ending with a space, nearest closer first: what
 * `/d(?=\S)([\s\S]*?\S)d/g` matches, found with a table of the next valid closer from each
 * position instead of a scan per opener.
 */
function pairs(text: string, delimiter: string, render: (content: string) => string): string {
  if (!text.includes(delimiter)) return text;
  const length = delimiter.length;
  const nextCloser = forwardSearch((from) => {
    let close = text.indexOf(delimiter, from);
    while (close >= 0 && isSpace(text.charCodeAt(close - 1))) close = text.indexOf(delimiter, close + 1);
    return close;
  });
  let output = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const open = text.indexOf(delimiter, from);
    if (open < 0) break;
    const start = open + length;
    const close = start < text.length && !isSpace(text.charCodeAt(start)) ? nextCloser(start + 1) : -1;
    if (close < 0) {
      from = open + 1;
      continue;
    }
    output += text.slice(copied, open) + render(text.slice(start, close));
    from = copied = close + length;
  }
  return output + text.slice(copied);
}

/** What `\s` matches, by character code, without a regular expression per character. */
function isSpace(code: number): boolean {
  return (
    code === 32 ||
    (code >= 9 && code <= 13) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** `*aside*` → `_aside_`, not inside words (`2 * 3 * 4`, `a*b*c` stay) and never across lines. */
function singleStars(text: string): string {
  let output = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const open = text.indexOf('*', from);
    if (open < 0 || open + 1 >= text.length) break;
    const before = open === 0 ? '' : (text[open - 1] as string);
    const prefixOk = open === 0 || (open > copied && !/[\w*]/.test(before));
    const first = text[open + 1] as string;
    if (!prefixOk || isSpace(first.charCodeAt(0)) || first === '*') {
      from = open + 1;
      continue;
    }
    let close = open + 1;
    while (close < text.length && text[close] !== '*' && text[close] !== '\n') close++;
    const after = text[close + 1] ?? '';
    if (text[close] !== '*' || isSpace(text.charCodeAt(close - 1)) || /[\w*]/.test(after)) {
      // Nothing between here and `close` can open a pair that closes sooner.
      from = Math.max(open + 1, text[close] === '*' ? close : close + 1);
      continue;
    }
    output += `${text.slice(copied, open)}_${text.slice(open + 1, close)}_`;
    from = copied = close + 1;
  }
  return output + text.slice(copied);
}

/**
 * The last word on what Slack will read as markup: every `<…>` left in the text must be a
 * link to http(s) or mailto (or, when allowed, a mention); anything else is shown as text.
 * Plain `@here`-style words are broken with a word joiner so no client reads them as one.
 */
export function slackSafe(mrkdwn: string, options: MrkdwnOptions = {}): string {
  let output = '';
  let copied = 0;
  for (let open = mrkdwn.indexOf('<'); open >= 0; open = mrkdwn.indexOf('<', open + 1)) {
    const head = mrkdwn.slice(open, open + 10).toLowerCase();
    const link = head.startsWith('<http://') || head.startsWith('<https://') || head.startsWith('<mailto:');
    const mention = options.allowMentions === true && MENTION.test(mrkdwn.slice(open, open + 128));
    if (link || mention) continue;
    output += `${mrkdwn.slice(copied, open)}&lt;`;
    copied = open + 1;
  }
  output += mrkdwn.slice(copied);
  return options.allowMentions ? output : output.replace(/(^|[^\w.+-])@(channel|here|everyone)\b/gi, '$1@\u2060$2');
}

/**
 * The streamed path's renderer: Slack renders streamed Markdown (`markdown_text`) itself, so
 * the text stays Markdown, but it passes the same last word as a posted answer ({@link
 * slackSafe}): no mention, no broadcast, no `<…>` but an http(s) or mailto link. Safe on any
 * cut of the answer: a `<` whose link the cut splits is shown as text, never read as markup.
 */
export function streamedMarkdown(markdown: string, options: MrkdwnOptions = {}): string {
  return slackSafe(markdown, options);
}

/**
 * Splits a message into parts of at most `maxChars`, at paragraph boundaries where it can,
 * then at line boundaries, then at spaces. A code block cut in two is closed and reopened,
 * so every part renders on its own.
 */
export function splitMessage(text: string, maxChars = 3000): string[] {
  if (maxChars < 20) throw new RangeError('splitMessage needs room for at least 20 characters');
  const parts: string[] = [];
  let current = '';
  const flush = () => {
    if (current.trim() !== '') parts.push(current.trim());
    current = '';
  };
  for (const unit of paragraphs(text)) {
    const joined = current === '' ? unit : `${current}\n\n${unit}`;
    if (joined.length <= maxChars) {
      current = joined;
      continue;
    }
    flush();
    if (unit.length <= maxChars) current = unit;
    else for (const piece of splitLongUnit(unit, maxChars)) parts.push(piece);
  }
  flush();
  return parts;
}

/** Paragraphs separated by blank lines; a fenced code block stays one unit, blank lines and all. */
function paragraphs(text: string): string[] {
  const units: string[] = [];
  let lines: string[] = [];
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (!inFence && line.trim() === '') {
      if (lines.length) units.push(lines.join('\n'));
      lines = [];
    } else lines.push(line);
  }
  if (lines.length) units.push(lines.join('\n'));
  return units;
}

function splitLongUnit(unit: string, maxChars: number): string[] {
  const isCode = unit.startsWith('```') && unit.trimEnd().endsWith('```') && unit.length > 6;
  const body = isCode ? unit.replace(/^```\n?/, '').replace(/\n?```\s*$/, '') : unit;
  const room = isCode ? maxChars - 8 : maxChars;
  const pieces: string[] = [];
  let current = '';
  for (const line of body.split('\n')) {
    for (const chunk of line.length <= room ? [line] : hardSplit(line, room)) {
      const joined = current === '' ? chunk : `${current}\n${chunk}`;
      if (joined.length <= room) current = joined;
      else {
        pieces.push(current);
        current = chunk;
      }
    }
  }
  if (current !== '') pieces.push(current);
  return isCode ? pieces.map((piece) => `\`\`\`\n${piece}\n\`\`\``) : pieces;
}

/** A line longer than a message: cut at the last space before the limit, else at the limit. */
function hardSplit(line: string, room: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (line.length - start > room) {
    // Look back at most half a message for a space: lastIndexOf would search to the line's start.
    let space = start + room;
    while (space > start + room / 2 && line[space] !== ' ') space--;
    const cut = space > start + room / 2 ? space : start + room;
    chunks.push(line.slice(start, cut).trimEnd());
    start = cut;
    while (line[start] === ' ') start++;
  }
  if (start < line.length) chunks.push(line.slice(start));
  return chunks;
}
