/**
 * The dispatcher's metrics as CloudWatch Embedded Metric Format: fields added to the log line
 * a record already writes, so CloudWatch makes the metric from the log without a metrics
 * client, an agent or a call in the Lambda's path. One metric, `Deliveries`, by `Outcome`:
 * delivered, duplicate (absorbed: Slack retries and SQS redeliveries), refused (the
 * conversation said no), undeliverable and malformed (dropped, never retried), retry (left for
 * SQS; past the queue's maxReceiveCount it becomes a dead letter, which the DLQ depth alarm
 * counts).
 */
export type DispatchOutcome = 'delivered' | 'duplicate' | 'refused' | 'undeliverable' | 'malformed' | 'retry';

export const DISPATCH_METRICS_NAMESPACE = 'DurableAgents/Dispatch';

export function deliveryMetric(outcome: DispatchOutcome, now: number): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        { Namespace: DISPATCH_METRICS_NAMESPACE, Dimensions: [['Outcome']], Metrics: [{ Name: 'Deliveries', Unit: 'Count' }] },
      ],
    },
    Outcome: outcome,
    Deliveries: 1,
  };
}
