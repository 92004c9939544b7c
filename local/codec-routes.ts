import type { PayloadCodec, Payload } from '@temporalio/common';
import type { Context, Hono } from 'hono';
import * as z from 'zod';

/** Temporal's remote codec protocol: payloads as proto3 JSON, every bytes field in base64. */
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');
const codecRequestSchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })).max(10_000),
});

/**
 * `POST /codec/encode` and `/codec/decode` as Temporal's codec servers answer them, so the
 * Web UI and `temporal workflow show --codec-endpoint` show the payloads the stack encrypted.
 * The console's guard checks the token (a header, or the path `/codec/<token>/…` for the Web
 * UI, which cannot send a header of ours) and answers the Web UI's CORS preflight.
 */
export function addCodecRoutes(app: Hono, codec: PayloadCodec): void {
  for (const action of ['encode', 'decode'] as const) {
    const handle = async (c: Context) => {
      const body = await c.req.json().catch(() => undefined);
      const parsed = codecRequestSchema.safeParse(body);
      if (!parsed.success)
        return c.json(
          {
            ok: false,
            error: `expected { "payloads": [{ "metadata": { name: base64 }, "data": base64 }] }: ${parsed.error.issues[0]?.message}`,
          },
          400,
        );
      const payloads = parsed.data.payloads.map(fromJson);
      try {
        const result = action === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
        return c.json({ payloads: result.map(toJson) });
      } catch (error) {
        return c.json({ ok: false, error: (error as Error).message }, 422);
      }
    };
    app.post(`/codec/${action}`, handle);
    app.post(`/codec/:token/${action}`, handle);
  }
}

function fromJson(payload: { metadata?: Record<string, string> | undefined; data?: string | undefined }): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}
