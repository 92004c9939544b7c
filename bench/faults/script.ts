import type { Content } from '../../core/spec.ts';
import type { GeminiReply, GeminiRequest } from '../../local/gemini-server.ts';

/**
 * What the model answers in `npm run faults`. Every message carries a marker (`FX0042`); a
 * lookup asks `get_ip_location` for an address derived from it (so each call is counted by
 * the IP service on its own), an expense goes to the `expenses` sub-agent, whose
 * `submit_expense` (250 EUR) waits for approval. The answer names the marker, so answers are
 * counted per message from what Slack and SES received.
 */

export const MARKER = /FX\d{4,}/g;

export function markerName(sequence: number): string {
  return `FX${String(sequence).padStart(4, '0')}`;
}

/** A distinct private address per marker: the tool's side effect is keyed by it. */
export function ipOf(marker: string): string {
  const sequence = Number(marker.slice(2));
  return `10.${(sequence >> 16) & 255}.${(sequence >> 8) & 255}.${sequence & 255}`;
}

export function answerText(marker: string): string {
  return `ANSWER ${marker}: located, filed or done.`;
}

/** The marker an answer message carries, if it is one. */
export function answeredMarker(text: string): string | undefined {
  return /ANSWER (FX\d{4,})/.exec(text)?.[1];
}

/** The marker of the message a model request is about: the last one in the user's words. */
export function markerOf(request: GeminiRequest): string | undefined {
  const text = (request.body.contents as Content[])
    .filter((content) => content.role === 'user')
    .flatMap((content) => content.parts.map((part) => part.text ?? ''))
    .join('\n');
  return text.match(MARKER)?.at(-1);
}

export function faultScript(request: GeminiRequest): GeminiReply {
  const contents = request.body.contents as Content[];
  const marker = markerOf(request) ?? 'FX0000';
  const tools = new Set(
    (request.body.tools ?? []).flatMap((tool) => (tool.functionDeclarations ?? []).map((declaration) => declaration.name)),
  );
  const answered = contents.at(-1)?.parts.some((part) => part.functionResponse) ?? false;
  if (tools.has('submit_expense')) {
    // The expenses sub-agent: file the claim, then say so to its parent (not posted anywhere).
    return answered ? text(`Claim filed for ${marker}.`) : call('submit_expense', { description: `Monitor ${marker}`, amountEur: 250 });
  }
  if (answered) return text(answerText(marker));
  const asked = contents.flatMap((content) => content.parts.map((part) => part.text ?? '')).join('\n');
  if (/expense/i.test(asked)) return call('expenses', { task: `File an expense claim of 250 EUR for a monitor (${marker}).` });
  return call('get_ip_location', { ip: ipOf(marker) });
}

function text(value: string): GeminiReply {
  return { content: { role: 'model', parts: [{ text: value }] } };
}

function call(name: string, args: Record<string, unknown>): GeminiReply {
  return { content: { role: 'model', parts: [{ functionCall: { name, args } }] } };
}
