import type { Tracing } from '../../telemetry/tracing.ts';
import { parseInboundEvent, type InboundEvent } from '../../events/inbound-event.ts';
import { jsonLog, type Log } from '../shared/log.ts';
import type { SqsBatchEvent, SqsBatchResponse, SqsRecord } from '../shared/sqs-batch.ts';
import { deliver } from './deliver.ts';
import { deliveryMetric } from '../../telemetry/dispatch-metrics.ts';
import { routeEvent, UndeliverableEvent } from './route.ts';
import type { DispatchSettings } from '../../config/dispatcher-settings.ts';
import type { TemporalClientProvider } from './temporal-client.ts';
import { activeTraceId, withDispatchSpan } from '../../telemetry/dispatch-span.ts';

export interface DispatchDependencies {
  config: DispatchSettings;
  temporal: TemporalClientProvider;
  /** @default jsonLog */
  log?: Log;
  /** Clock, in milliseconds. @default Date.now */
  now?: () => number;
  /**
   * Spans of the edge (recorded from its message attributes) and of each delivery; give the
   * Temporal client the OpenTelemetry client interceptor too, so the update carries the
   * trace. @default none: nothing traced
   */
  tracing?: Tracing;
}

type RecordOutcome = 'done' | 'retry';

/**
 * The SQS batch handler (event source with `ReportBatchItemFailures`). Each record becomes an
 * update of its conversation. Records that can never succeed (not an InboundEvent, a forged
 * approval, an agent not allowed) are logged and acknowledged: retrying cannot help, and the
 * DLQ stays for events that were valid but could not be delivered, so redriving it is always
 * worth doing. Anything else that fails (Temporal unreachable, a timeout) is reported in
 * `batchItemFailures`, and SQS delivers it again.
 *
 * FIFO order holds per conversation: records of one message group run one after another,
 * and after a failure the rest of that group is reported failed untried, so a later message
 * never overtakes an earlier one. Groups run side by side.
 */
export function createDispatchBatchHandler(dependencies: DispatchDependencies) {
  const { config, temporal } = dependencies;
  const log = dependencies.log ?? jsonLog;
  const now = dependencies.now ?? Date.now;

  function handleRecord(record: SqsRecord): Promise<RecordOutcome> {
    return withDispatchSpan(dependencies.tracing, record, () => handleRecordInSpan(record));
  }

  async function handleRecordInSpan(record: SqsRecord): Promise<RecordOutcome> {
    const traceId = activeTraceId();
    const context = {
      sqsMessageId: record.messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      ...(traceId ? { traceId } : {}),
    };
    let event: InboundEvent;
    try {
      event = parseInboundEvent(JSON.parse(record.body));
    } catch (error) {
      log({
        msg: 'malformed record dropped',
        reason: (error as Error).message.slice(0, 500),
        ...context,
        ...deliveryMetric('malformed', now()),
      });
      return 'done';
    }
    const eventContext = { ...context, id: event.id, kind: event.kind, conversationId: event.conversationId };
    try {
      const action = routeEvent(event, config, now);
      const client = await temporal.get();
      const result = await client.withAbortSignal(AbortSignal.timeout(config.DISPATCH_UPDATE_TIMEOUT_MS), () =>
        deliver(client, action, { taskQueue: config.TEMPORAL_TASK_QUEUE, approvalSecret: config.APPROVAL_TOKEN_SECRET }),
      );
      if (result.outcome === 'refused')
        log({
          msg: 'conversation refused event',
          update: result.update,
          reason: result.reason,
          ...eventContext,
          ...deliveryMetric('refused', now()),
        });
      else
        log({
          msg: 'delivered',
          update: result.update,
          duplicate: result.duplicate,
          turn: result.turn,
          ...eventContext,
          ...deliveryMetric(result.duplicate ? 'duplicate' : 'delivered', now()),
        });
      return 'done';
    } catch (error) {
      if (error instanceof UndeliverableEvent) {
        log({ msg: 'undeliverable event dropped', reason: error.message, ...eventContext, ...deliveryMetric('undeliverable', now()) });
        return 'done';
      }
      // Anything else, a bug included, fails this record alone: SQS retries it, then the DLQ keeps it.
      log({
        msg: 'delivery failed, will retry',
        error: (error as Error).name,
        detail: (error as Error).message.slice(0, 500),
        ...eventContext,
        ...deliveryMetric('retry', now()),
      });
      return 'retry';
    }
  }

  return async function handleDispatchBatch(batch: SqsBatchEvent): Promise<SqsBatchResponse> {
    const groups = new Map<string, SqsRecord[]>();
    for (const record of batch.Records) {
      const group = record.attributes?.MessageGroupId ?? `record:${record.messageId}`;
      groups.set(group, [...(groups.get(group) ?? []), record]);
    }
    const failures: { itemIdentifier: string }[] = [];
    await Promise.all(
      [...groups.values()].map(async (records) => {
        for (const [index, record] of records.entries()) {
          if ((await handleRecord(record)) === 'done') continue;
          for (const failed of records.slice(index)) failures.push({ itemIdentifier: failed.messageId });
          return;
        }
      }),
    );
    // A Lambda may be frozen once it returns: spans buffered for OTLP leave now.
    await dependencies.tracing
      ?.forceFlush()
      .catch((error: unknown) =>
        log({ msg: 'span export failed', error: (error as Error).name, detail: (error as Error).message.slice(0, 200) }),
      );
    return { batchItemFailures: failures };
  };
}
