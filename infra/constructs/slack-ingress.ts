import { Duration, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import type { SuggestedPrompt } from '../../authoring/suggested-prompts.ts';
import type { DeploymentSecrets } from './deployment-secrets.ts';
import type { IngressQueue } from './ingress-queue.ts';
import { createNodeLambda } from './node-lambda.ts';

export interface SlackIngressProps {
  queue: IngressQueue;
  secrets: DeploymentSecrets;
  /** `SLACK_DEFAULT_AGENT`. @default 'assistant' */
  defaultAgent?: string;
  /** `SLACK_BOT_USER_ID`. @default unset */
  botUserId?: string;
  /** `SLACK_SUGGESTED_PROMPTS`: set when a person opens the agent's DM (the edge needs the bot token too). @default none */
  suggestedPrompts?: SuggestedPrompt[];
  /** @default 30 */
  logRetentionDays?: number;
  /**
   * Concurrency reserved for the public function, which also caps it: a flood of requests
   * to the unauthenticated URL is throttled here instead of starving the dispatcher and
   * the account's other functions. 0 reserves nothing. @default 50
   */
  reservedConcurrency?: number;
}

/**
 * Slack's Events, Interactivity and slash-command endpoint: the Hono app of
 * functions/slack/handler.ts behind a Function URL. The URL has no IAM auth because Slack
 * cannot sign with SigV4; the function verifies Slack's HMAC signature on every request
 * with the signing secret it reads from Secrets Manager at cold start. It can read its two
 * secrets and send to the ingress queue, nothing more.
 */
export class SlackIngress extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly functionUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: SlackIngressProps) {
    super(scope, id);
    const reservedConcurrency = props.reservedConcurrency ?? 50;
    this.function = createNodeLambda(this, 'Function', {
      entry: 'functions/slack/handler.ts',
      description: 'Slack ingress: verify, normalise, queue (FIFO)',
      // Slack gives up after 3 s; the SQS send has 2.5 s (INGRESS_QUEUE_TIMEOUT_MS).
      memorySize: 256,
      timeout: Duration.seconds(5),
      environment: {
        ...props.queue.producerEnvironment(),
        SLACK_DEFAULT_AGENT: props.defaultAgent ?? 'assistant',
        ...(props.botUserId ? { SLACK_BOT_USER_ID: props.botUserId } : {}),
        ...(props.suggestedPrompts?.length ? { SLACK_SUGGESTED_PROMPTS: JSON.stringify(props.suggestedPrompts) } : {}),
      },
      ...(props.logRetentionDays ? { logRetentionDays: props.logRetentionDays } : {}),
      ...(reservedConcurrency > 0 ? { reservedConcurrentExecutions: reservedConcurrency } : {}),
    });
    props.secrets.bindToFunction(this.function, [
      'SLACK_SIGNING_SECRET',
      'APPROVAL_TOKEN_SECRET',
      ...props.secrets.present(['SLACK_BOT_TOKEN']),
    ]);
    props.queue.grantSend(this.function);
    this.functionUrl = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    acknowledgeBasicExecutionRole(this.function);
  }
}

/** Every function's role carries AWSLambdaBasicExecutionRole; cdk-nag asks for a reason. */
export function acknowledgeBasicExecutionRole(fn: lambda.Function): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'The AWS managed basic execution policy only lets the function write its own CloudWatch logs; a hand-written copy would add nothing.',
  });
}
