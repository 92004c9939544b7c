/**
 * Model answers are Markdown; Slack speaks mrkdwn. Pure functions: conversion, and splitting
 * a long text into messages on paragraph boundaries.
 */

const FENCE = /^\s*(```|~~~)/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const BULLET = /^(\s*)[-*+]\s+(?:\[( |x|X)\]\s+)?(.*)$/;
const ORDERED = /^(\s*)(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;

/** `&`, `<` and `>` are the three characters Slack asks every text to escape. */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Markdown → Slack mrkdwn: `**bold**` → `*bold*`, `*italic*` → `_italic_`, `~~gone~~` →
 * `~gone~`, `[text](url)` → `<url|text>`, headings → bold lines, bullets → `•`, tables →
 * code blocks. Code keeps its text (escaped, as Slack requires) and loses its language tag.
 */
export function markdownToMrkdwn(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
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
    output.push(convertLine(line));
  }
  if (fence !== undefined) output.push('```');
  return output.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

function convertLine(line: string): string {
  const heading = HEADING.exec(line);
  if (heading) {
    const text = convertInline(heading[1] as string).replace(/(^|\s)\*(\S(?:.*?\S)?)\*(?=\s|$)/g, '$1$2');
    return text === '' ? '' : `*${text}*`;
  }
  if (RULE.test(line)) return '──────────';
  const bullet = BULLET.exec(line);
  if (bullet) {
    const box = bullet[2] === undefined ? '' : bullet[2] === ' ' ? '☐ ' : '☑ ';
    return `${indent(bullet[1] as string)}• ${box}${convertInline(bullet[3] as string)}`;
  }
  const ordered = ORDERED.exec(line);
  if (ordered) return `${indent(ordered[1] as string)}${ordered[2]}. ${convertInline(ordered[3] as string)}`;
  const quote = QUOTE.exec(line);
  if (quote) return `> ${convertInline(quote[1] as string)}`;
  return convertInline(line);
}

/** Nested lists: every two or more spaces of Markdown indent become four spaces in Slack. */
function indent(spaces: string): string {
  const depth = Math.floor(spaces.replace(/\t/g, '  ').length / 2);
  return '    '.repeat(depth);
}

const PROTECTED = /\uE000(\d+)\uE001/g;

/** Converts the inline syntax of one line. Code spans and links are set aside first, so emphasis rules never reach inside them. */
function convertInline(text: string): string {
  const kept: string[] = [];
  const keep = (value: string) => `\uE000${kept.push(value) - 1}\uE001`;
  let working = text.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (_match, _ticks: string, code: string) => keep(`\`${escapeSlackText(code.trim())}\``));
  working = working.replace(/<((?:https?|mailto):[^\s<>]+)>/g, (_match, url: string) => keep(`<${url}>`));
  working = working.replace(/!\[([^\]]*)\]\(\s*<?([^\s)<>]+)>?(?:\s+"[^"]*")?\s*\)/g, (_match, alt: string, url: string) =>
    keep(alt.trim() ? `<${url}|${linkText(alt)}>` : `<${url}>`),
  );
  working = working.replace(/\[([^\]]+)\]\(\s*<?([^\s)<>]+)>?(?:\s+"[^"]*")?\s*\)/g, (_match, label: string, url: string) => keep(`<${url}|${linkText(label)}>`));
  working = emphasis(escapeSlackText(working));
  // Restore in reverse: a kept piece may itself hold an earlier one (a code span inside a link).
  for (let pass = 0; pass < 3 && /\uE000\d+\uE001/.test(working); pass++) {
    working = working.replace(PROTECTED, (_match, index: string) => kept[Number(index)] as string);
  }
  return working;
}

function linkText(label: string): string {
  return emphasis(escapeSlackText(label)).replace(/\|/g, '¦');
}

const BOLD = '\uE002';

function emphasis(text: string): string {
  return text
    .replace(/\*\*\*(?=\S)([\s\S]*?\S)\*\*\*/g, `${BOLD}_$1_${BOLD}`)
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, `${BOLD}$1${BOLD}`)
    .replace(/__(?=\S)([\s\S]*?\S)__/g, `${BOLD}$1${BOLD}`)
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1_$2_')
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '~$1~')
    .replace(new RegExp(BOLD, 'g'), '*');
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
  let rest = line;
  while (rest.length > room) {
    const space = rest.lastIndexOf(' ', room);
    const cut = space > room / 2 ? space : room;
    chunks.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '') chunks.push(rest);
  return chunks;
}
