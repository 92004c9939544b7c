import { canonicalJson } from './canonical-json.ts';
import type { MessageRef } from './message-ref.ts';

/** What the model sees instead of a result too large to show whole. */
export interface ResultExcerpt {
  /** Read first: it says the result was cut and where the rest is. */
  note: string;
  truncated: true;
  /** UTF-8 size of the whole result as text: the string itself, or its JSON. */
  totalBytes: number;
  /** Where the whole result is stored. */
  ref: MessageRef;
  /** The start of the result's text (a string result as is; anything else as JSON). */
  excerpt: string;
}

/**
 * Returns `value` unchanged when its JSON fits in `maxBytes` (UTF-8), and otherwise a
 * `ResultExcerpt` whose JSON fits, with as much of the start of the result as room allows.
 * Pure: the caller stores the whole result and passes its `ref`.
 */
export function boundResult(value: unknown, maxBytes: number, ref: MessageRef): unknown {
  const json = canonicalJson(value);
  if (byteLength(json) <= maxBytes) return value;

  const text = typeof value === 'string' ? value : json;
  const totalBytes = byteLength(text);
  const envelope = (excerpt: string, shownBytes = byteLength(excerpt)): ResultExcerpt => ({
    note: `Result cut: showing the first ${shownBytes} of ${totalBytes} bytes; the whole result is stored as ${ref}.`,
    truncated: true,
    totalBytes,
    ref,
    excerpt,
  });
  // The note's count has at most as many digits as totalBytes; size the room with that
  // many, and the real note can only come out shorter.
  const room = maxBytes - byteLength(JSON.stringify(envelope('', totalBytes)));
  if (room < 0) {
    throw new RangeError(`maxBytes ${maxBytes} is too small for even an empty excerpt; allow at least ${maxBytes - room} bytes.`);
  }
  return envelope(longestPrefixFitting(text, room));
}

/** A long prefix of `text`, not splitting a surrogate pair, whose JSON string literal without its quotes fits in `room` bytes. */
function longestPrefixFitting(text: string, room: number): string {
  // Every UTF-16 unit takes at least one byte, so no prefix longer than `room` can fit.
  let low = 0;
  let high = Math.min(text.length, room);
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (byteLength(JSON.stringify(text.slice(0, middle))) - 2 <= room) low = middle;
    else high = middle - 1;
  }
  const prefix = text.slice(0, low);
  const last = prefix.charCodeAt(prefix.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? prefix.slice(0, -1) : prefix;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
