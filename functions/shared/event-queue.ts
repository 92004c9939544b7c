import { createHash } from 'node:crypto';
import { parseInboundEvent, type InboundEvent } from '../../events/inbound-event.ts';
import type { EdgeTrace } from '../../telemetry/traceparent.ts';
import { signRequest, type AwsCredentials } from './aws-signature.ts';

/**
 * The one path from an edge to the ingress queue: the `EventQueue` interface, the
 * SendMessage request an event becomes (group and deduplication ids decided here, once), and
 * the SQS implementation both edges use. The local stack's queue (`local/in-process-queue.ts`)
 * implements the same interface from the same request.
 */

/** Where normalised events go. The edge answers 200 only after `send` resolved. */
export interface EventQueue {
  /** `trace`: the edge's W3C trace context, carried as message attributes to the dispatcher. */
  send(event: InboundEvent, trace?: EdgeTrace): Promise<void>;
}

/**
 * The SendMessage request for an event on the FIFO queue: one message group per
 * conversation (order within a conversation, parallelism across them) and the source event
 * id as deduplication id, so a Slack retry or a mention delivered twice within five minutes
 * is stored once.
 */
export function sqsMessageOf(event: InboundEvent, trace?: EdgeTrace) {
  const valid = parseInboundEvent(event);
  return {
    MessageBody: JSON.stringify(valid),
    MessageGroupId: sqsFifoId(valid.conversationId),
    MessageDeduplicationId: sqsFifoId(valid.id),
    MessageAttributes: {
      source: { DataType: 'String', StringValue: valid.source },
      kind: { DataType: 'String', StringValue: valid.kind },
      ...(trace
        ? {
            traceparent: { DataType: 'String', StringValue: trace.traceparent },
            edge_started_at: { DataType: 'Number', StringValue: String(trace.startedAt) },
          }
        : {}),
    },
  };
}

/** SQS group and deduplication ids: at most 128 characters of printable ASCII without spaces. */
const SQS_FIFO_ID = /^[!-~]{1,128}$/;

/**
 * The id itself when SQS accepts it, else a SHA-256 of it: stable, so the same source event
 * always maps to the same deduplication id, and the same conversation to the same group.
 */
export function sqsFifoId(value: string): string {
  if (SQS_FIFO_ID.test(value)) return value;
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex')}`;
}

export interface SqsEventQueueOptions {
  /** URL of the FIFO queue (`….fifo`). */
  queueUrl: string;
  region: string;
  /** Read per request: Lambda may hand the function role fresh credentials. */
  credentials: () => AwsCredentials;
  /** SQS endpoint; by default the queue URL's origin (which is the regional endpoint). */
  endpoint?: string;
  /** Give up on SQS after this long, so the Slack edge can answer before Slack's 3 s. @default 2500 */
  timeoutMs?: number;
}

/**
 * The edges' queue: SendMessage (SQS's JSON protocol) signed with Signature Version 4 over
 * `fetch`, without the AWS SDK. An edge sends one kind of request; loading
 * `@aws-sdk/client-sqs` for it costs more at a cold start than the rest of the function
 * (see `npm run bench -- ingress`). A refusal or an unreachable SQS rejects `send`, and the
 * edge answers 503 (Slack) or reports the record as failed (email).
 */
export function createSqsEventQueue(options: SqsEventQueueOptions): EventQueue {
  const url = new URL('/', options.endpoint ?? new URL(options.queueUrl).origin);
  return {
    async send(event, trace) {
      const body = JSON.stringify({ QueueUrl: options.queueUrl, ...sqsMessageOf(event, trace) });
      const headers = signRequest({
        url,
        body,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
        region: options.region,
        service: 'sqs',
        credentials: options.credentials(),
        now: new Date(),
      });
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 2500) });
      } catch (error) {
        // fetch reports an unreachable host as a TypeError, which callers read as bad input.
        const name = (error as Error).name === 'TypeError' ? 'NetworkError' : (error as Error).name;
        throw sendFailure(name, `SQS SendMessage did not answer: ${(error as Error).message}`, undefined, error);
      }
      const text = await response.text();
      if (!response.ok) {
        const detail = jsonOrUndefined(text) as { __type?: string; message?: string; Message?: string } | undefined;
        const type = detail?.__type?.split('#').pop() ?? `HTTP ${response.status}`;
        throw sendFailure(
          type,
          `SQS SendMessage failed: ${type}: ${detail?.message ?? detail?.Message ?? text.slice(0, 200)}`,
          response.status,
        );
      }
    },
  };
}

/**
 * An error shaped as the AWS SDK shapes its own (`name` is SQS's error type, `$metadata`
 * holds the HTTP status), so a caller tells a refusal of the message (4xx) from an outage
 * as it would with the SDK: the email edge drops the first and retries the second.
 */
function sendFailure(name: string, message: string, status?: number, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  error.name = name;
  if (status !== undefined) Object.assign(error, { $metadata: { httpStatusCode: status } });
  return error;
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
