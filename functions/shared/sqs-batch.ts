/** The parts of Lambda's SQS event that the edges' and the dispatcher's handlers read. */
export interface SqsRecord {
  messageId: string;
  body: string;
  attributes?: { MessageGroupId?: string; ApproximateReceiveCount?: string; SentTimestamp?: string };
  /** As Lambda spells them: `traceparent` and `edge_started_at` carry the edge's trace. */
  messageAttributes?: Record<string, { stringValue?: string; dataType: string }>;
}

export interface SqsBatchEvent {
  Records: SqsRecord[];
}

/** The answer of a handler whose event source has `ReportBatchItemFailures`. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}
