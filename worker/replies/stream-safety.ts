import { slackSafe } from './markdown.ts';

/**
 * Streamed model text gets the safety of a posted answer: no broadcast (`<!channel>`,
 * `@here`), no mention unless the agent allows them, and no link but http(s) and mailto.
 * Applied per chunk, so `heldBack` keeps what a later chunk could complete into one.
 */
export function safeStreamText(text: string, allowMentions: boolean): string {
  // Markdown links keep their label; a link to anything but http(s) or mailto loses its target.
  const linked = text.replace(/\[([^\]\n]{0,500})\]\(([^)\s]{0,2000})\)/g, (whole, label: string, url: string) =>
    /^(https?:\/\/|mailto:)/i.test(url) ? whole : label,
  );
  return slackSafe(linked, { allowMentions });
}

/** Characters held back at most: past that, the tail is sent as it is (and made safe as it is). */
const MAX_HELD_BACK = 1000;

/**
 * Splits pending text into what can be sent now and a tail held back: an open `<…`, an
 * unfinished `[label](url`, or a trailing `@word`, each of which the next chunk could turn into
 * a mention or a link that neither chunk shows alone.
 */
export function heldBack(text: string): [ready: string, rest: string] {
  const from = Math.max(0, text.length - MAX_HELD_BACK);
  let cut = text.length;
  const angle = text.lastIndexOf('<');
  if (angle >= from && !text.includes('>', angle)) cut = Math.min(cut, angle);
  const bracket = text.lastIndexOf('[');
  if (bracket >= from) {
    const close = text.indexOf(']', bracket);
    const finished = close !== -1 && (text[close + 1] !== '(' ? close + 1 < text.length : text.includes(')', close));
    if (!finished) cut = Math.min(cut, bracket);
  }
  const at = /@\w*$/.exec(text);
  if (at && at.index >= from) cut = Math.min(cut, at.index);
  return [text.slice(0, cut), text.slice(cut)];
}
