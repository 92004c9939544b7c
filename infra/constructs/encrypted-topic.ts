import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

export interface EncryptedTopicOptions {
  /** The key's description: what the topic's messages are. */
  description: string;
  /** The AWS service that publishes, e.g. `ses.amazonaws.com`. */
  publisher: string;
  /** The key policy statement's id, naming the publisher. */
  sid: string;
  displayName?: string;
}

/**
 * An SNS topic encrypted with its own rotating key, which the publishing AWS service may use
 * on behalf of this account only (an AWS managed key cannot be shared with a service). The
 * key and the topic are `TopicKey` and `Topic` inside `scope`, so their logical ids are the
 * scope's own.
 */
export function createEncryptedTopic(scope: Construct, options: EncryptedTopicOptions): sns.Topic {
  const topicKey = new kms.Key(scope, 'TopicKey', {
    description: options.description,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  topicKey.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: options.sid,
      principals: [new iam.ServicePrincipal(options.publisher)],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }),
  );
  return new sns.Topic(scope, 'Topic', {
    masterKey: topicKey,
    enforceSSL: true,
    ...(options.displayName ? { displayName: options.displayName } : {}),
  });
}
