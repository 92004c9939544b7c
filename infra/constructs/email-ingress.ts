import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sesActions from 'aws-cdk-lib/aws-ses-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeploymentSecrets } from './deployment-secrets.ts';
import type { IngressQueue } from './ingress-queue.ts';
import { createEncryptedTopic } from './encrypted-topic.ts';
import { createNodeLambda } from './node-lambda.ts';
import { acknowledgeBasicExecutionRole } from './slack-ingress.ts';
import type { TranscriptBucket } from './transcript-bucket.ts';

export interface EmailIngressProps {
  bucket: TranscriptBucket;
  queue: IngressQueue;
  secrets: DeploymentSecrets;
  /** Addresses or domains the receipt rule matches. @default every recipient the account receives for */
  recipients?: string[];
  /** `EMAIL_ALLOWED_SENDERS`: addresses or `@domain`s, comma-separated. */
  allowedSenders: string;
  /** Add the rule to this existing rule set; otherwise a new one is created (and must be made active). @default a new rule set */
  ruleSetName?: string;
  /** Receives of one notification before it moves to the dead-letter queue. @default 5 */
  maxReceiveCount?: number;
  /** @default 30 */
  logRetentionDays?: number;
}

/**
 * Inbound mail: an SES receipt rule stores the raw MIME under the bucket's raw-mail prefix
 * and notifies an SNS topic; the topic feeds a standard SQS queue (with a dead-letter
 * queue) that invokes functions/email/handler.ts in batches, failures reported per
 * message. The function reads the raw mail and sends accepted messages to the ingress FIFO.
 *
 * SES receiving exists in a few regions only, and CloudFormation cannot make a rule set
 * active: a new rule set must be activated once (`aws ses set-active-receipt-rule-set`), or
 * pass `ruleSetName` of the already active one.
 */
export class EmailIngress extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly topic: sns.Topic;
  readonly notificationQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly ruleSet: ses.IReceiptRuleSet;
  readonly rule: ses.ReceiptRule;

  constructor(scope: Construct, id: string, props: EmailIngressProps) {
    super(scope, id);
    const functionTimeout = Duration.seconds(30);

    // The notification carries the mail's headers; encrypted with a key SES may use.
    this.topic = createEncryptedTopic(this, {
      description: 'Encrypts SES inbound-mail notifications',
      publisher: 'ses.amazonaws.com',
      sid: 'AllowSesToPublishEncrypted',
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesToPublish',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.notificationQueue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(functionTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    this.topic.addSubscription(new subscriptions.SqsSubscription(this.notificationQueue, { rawMessageDelivery: true }));

    this.ruleSet = props.ruleSetName
      ? ses.ReceiptRuleSet.fromReceiptRuleSetName(this, 'RuleSet', props.ruleSetName)
      : new ses.ReceiptRuleSet(this, 'RuleSet');
    this.rule = new ses.ReceiptRule(this, 'Rule', {
      ruleSet: this.ruleSet,
      ...(props.recipients && props.recipients.length > 0 ? { recipients: props.recipients } : {}),
      // Spam and virus verdicts feed the ingress's checks; mail only over TLS.
      scanEnabled: true,
      tlsPolicy: ses.TlsPolicy.REQUIRE,
      actions: [new sesActions.S3({ bucket: props.bucket.bucket, objectKeyPrefix: props.bucket.rawMailPrefix, topic: this.topic })],
    });
    // SES checks it may publish when the rule is created.
    const topicPolicy = this.topic.node.tryFindChild('Policy');
    if (topicPolicy) this.rule.node.addDependency(topicPolicy);

    this.function = createNodeLambda(this, 'Function', {
      entry: 'functions/email/handler.ts',
      description: 'Email ingress: read raw mail from S3, check, queue (FIFO)',
      memorySize: 512,
      timeout: functionTimeout,
      environment: {
        ...props.queue.producerEnvironment(),
        EMAIL_ALLOWED_SENDERS: props.allowedSenders,
        // Attachments are stored in the transcript store, where the agents' activities read them.
        ...props.bucket.transcriptStoreEnvironment(),
      },
      ...(props.logRetentionDays ? { logRetentionDays: props.logRetentionDays } : {}),
    });
    this.function.addEventSource(new lambdaEvents.SqsEventSource(this.notificationQueue, { batchSize: 10, reportBatchItemFailures: true }));
    props.secrets.bindToFunction(this.function, ['EMAIL_REPLY_TOKEN_SECRET']);
    props.bucket.grantRawMailRead(this.function);
    // Narrow on purpose: the edge parses hostile MIME, so it may store attachments and read
    // thread records, never read a transcript, an approval record or a conversation.
    props.bucket.grantAttachmentWrite(this.function);
    props.bucket.grantEmailThreadRead(this.function);
    props.queue.grantSend(this.function);
    acknowledgeBasicExecutionRole(this.function);
  }
}
