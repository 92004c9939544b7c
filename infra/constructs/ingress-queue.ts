import { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface IngressQueueProps {
  /** Receives of one message before it moves to the dead-letter queue. @default 5 */
  maxReceiveCount?: number;
  /** At least six times the consumer's timeout, as Lambda advises. @default 3 minutes */
  visibilityTimeout?: Duration;
}

/**
 * The FIFO queue between the edge and the dispatcher. Message group = conversation, so one
 * conversation's messages arrive in order; deduplication id = the source event id, set by
 * the producer (content-based deduplication is off: two identical texts are two messages).
 * High-throughput FIFO (deduplication and throughput per message group) lets many
 * conversations flow at once. SSE-SQS, TLS only; a FIFO dead-letter queue keeps 14 days.
 */
export class IngressQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: IngressQueueProps = {}) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: true,
      contentBasedDeduplication: false,
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: props.visibilityTimeout ?? Duration.minutes(3),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
  }

  /** Send only: the edge functions. */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }

  /** Receive, change visibility and delete: the dispatcher (an event source grants this too). */
  grantConsume(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantConsumeMessages(grantee);
  }

  /** `INGRESS_QUEUE_URL` of the edge functions. */
  producerEnvironment(): Record<string, string> {
    return { INGRESS_QUEUE_URL: this.queue.queueUrl };
  }
}
