/**
 * How the stand-in takes a Web API call and refuses one, as Slack does: arguments as a form
 * (`@slack/web-api`'s default) or JSON, objects inside a form as JSON text, and refusals as
 * HTTP 200 with `ok: false` and a code. Also the checks of message content every method family shares.
 */
import type { IncomingMessage } from 'node:http';

/** A refusal as Slack answers it: HTTP 200, `ok: false`, the code, and any extra fields. */
export class SlackApiError extends Error {
  readonly extra: Record<string, unknown>;
  constructor(code: string, extra: Record<string, unknown> = {}) {
    super(code);
    this.extra = extra;
  }
}

/** One Web API method: its arguments in, the fields of its `ok: true` answer out; a refusal throws `SlackApiError`. */
export type SlackMethod = (args: Record<string, unknown>) => Record<string, unknown>;

export interface SlackMessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

/** Slack refuses `text` longer than this. */
export const MAX_TEXT_CHARS = 40_000;
/** Slack's limits on Block Kit: blocks per message, characters per section text. */
const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT_CHARS = 3000;
const MAX_BUTTON_VALUE_CHARS = 2000;
const MAX_BODY_BYTES = 1024 * 1024;

/** A body over the size the stand-in reads: answered 413. */
export class BodyError extends Error {}

/** Form (`@slack/web-api`'s default) or JSON bodies; form values holding objects are JSON text. */
export async function readArguments(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyError('request_too_large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  const type = request.headers['content-type'] ?? '';
  if (type.includes('application/json')) {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export function parseJsonArgument(value: unknown): unknown {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new SlackApiError('invalid_blocks_format');
  }
}

export function parseMetadata(value: unknown): SlackMessageMetadata | undefined {
  const parsed = (() => {
    try {
      return parseJsonArgument(value);
    } catch {
      throw new SlackApiError('invalid_metadata_format');
    }
  })();
  if (parsed === undefined) return undefined;
  const metadata = parsed as Partial<SlackMessageMetadata>;
  if (typeof metadata.event_type !== 'string' || typeof metadata.event_payload !== 'object' || metadata.event_payload === null) {
    throw new SlackApiError('invalid_metadata_schema');
  }
  return { event_type: metadata.event_type, event_payload: metadata.event_payload };
}

/** The Block Kit checks Slack applies that a reply is most likely to trip over. */
export function checkBlocks(blocks: unknown): void {
  if (!Array.isArray(blocks) || blocks.length > MAX_BLOCKS) throw new SlackApiError('invalid_blocks');
  for (const block of blocks as { type?: unknown; text?: { text?: unknown }; elements?: { value?: unknown; action_id?: unknown }[] }[]) {
    if (typeof block?.type !== 'string') throw new SlackApiError('invalid_blocks');
    if (block.type === 'section' && typeof block.text?.text === 'string' && block.text.text.length > MAX_SECTION_TEXT_CHARS) {
      throw new SlackApiError('invalid_blocks');
    }
    if (block.type === 'context_actions') checkContextActions(block.elements);
    if (block.type === 'actions') {
      for (const element of block.elements ?? []) {
        if (typeof element.value === 'string' && element.value.length > MAX_BUTTON_VALUE_CHARS) throw new SlackApiError('invalid_blocks');
      }
    }
  }
}

/** `context_actions` (docs.slack.dev/reference/block-kit/blocks/context-actions-block): up to 5 feedback or icon buttons. */
function checkContextActions(elements: unknown): void {
  if (!Array.isArray(elements) || elements.length === 0 || elements.length > 5) throw new SlackApiError('invalid_blocks');
  for (const element of elements as Record<string, unknown>[]) {
    if (element?.type === 'icon_button') continue;
    if (element?.type !== 'feedback_buttons') throw new SlackApiError('invalid_blocks');
    for (const button of [element.positive_button, element.negative_button] as {
      text?: { type?: unknown; text?: unknown };
      value?: unknown;
    }[]) {
      if (
        button?.text?.type !== 'plain_text' ||
        typeof button.text.text !== 'string' ||
        typeof button.value !== 'string' ||
        button.value.length > MAX_BUTTON_VALUE_CHARS
      ) {
        throw new SlackApiError('invalid_blocks');
      }
    }
  }
}

export function compareTs(a: string, b: string): number {
  const [aSeconds = 0, aFraction = 0] = a.split('.').map(Number);
  const [bSeconds = 0, bFraction = 0] = b.split('.').map(Number);
  return aSeconds - bSeconds || aFraction - bFraction;
}

export function redactToken(args: Record<string, unknown>): Record<string, unknown> {
  const { token: _token, ...rest } = args;
  return rest;
}
