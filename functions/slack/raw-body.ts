import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';

/** Variables the ingress middleware leave on the context. */
export interface IngressVariables {
  /** The request body exactly as received: signatures are computed over these bytes. */
  rawBody: string;
  /** When the request arrived (ms since the epoch): the start of the edge's span. */
  receivedAt?: number;
}

export interface RawBodyOptions {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
}

/**
 * Reads the body once, up to a limit, before anything parses it: an oversized request is
 * refused from its Content-Length when it declares one, or as soon as the stream passes the
 * limit when it does not. The text is kept for the signature check and the parsers after it.
 */
export function rawBody(options: RawBodyOptions): MiddlewareHandler<{ Variables: IngressVariables }> {
  return async function rawBodyMiddleware(c, next) {
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > options.maxBytes) throw tooLarge(options.maxBytes);
    const bytes = await readAtMost(c.req.raw.body, options.maxBytes);
    const text = decodeUtf8(bytes);
    c.set('rawBody', text);
    await next();
  };
}

async function readAtMost(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    // ignoreBOM keeps a leading BOM, so the text re-encodes to exactly the signed bytes.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new HTTPException(400, { message: 'request body is not valid UTF-8' });
  }
}

function tooLarge(maxBytes: number): HTTPException {
  return new HTTPException(413, { message: `request body exceeds the limit of ${maxBytes} bytes` });
}
