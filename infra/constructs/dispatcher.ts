import { Duration } from 'aws-cdk-lib';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import type { DeploymentSecrets } from './deployment-secrets.ts';
import type { IngressQueue } from './ingress-queue.ts';
import { createNodeLambda } from './node-lambda.ts';
import { acknowledgeBasicExecutionRole } from './slack-ingress.ts';

/** Where the Temporal clients connect. */
export interface TemporalTarget {
  /** `TEMPORAL_ADDRESS`, e.g. `ns.acct.tmprl.cloud:7233`. */
  address: string;
  /** `TEMPORAL_NAMESPACE`. */
  namespace: string;
  /** `TEMPORAL_TASK_QUEUE` the conversation workflows run on. */
  taskQueue: string;
}

export interface DispatcherProps {
  queue: IngressQueue;
  secrets: DeploymentSecrets;
  temporal: TemporalTarget;
  /** `DISPATCH_DEFAULT_AGENT`. @default 'assistant' */
  defaultAgent?: string;
  /** `EMAIL_AGENT_DOMAIN`. @default unset */
  emailAgentDomain?: string;
  /** `DISPATCH_AGENTS`: the agents events may name. @default any */
  agents?: string[];
  /** @default 30 */
  logRetentionDays?: number;
}

/**
 * functions/dispatch/handler.ts on the ingress FIFO queue: batches of 10, failures reported
 * per message so one stuck conversation does not redeliver the others. It reads the
 * approval secret (APPROVAL_TOKEN_SECRET_ARN) at cold start and the Temporal Cloud
 * certificate (TEMPORAL_SECRET_ARN) on its first connect, and connects over gRPC (@grpc/grpc-js is pure JavaScript, so the bundle needs no
 * native module).
 */
export class Dispatcher extends Construct {
  readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: DispatcherProps) {
    super(scope, id);
    this.function = createNodeLambda(this, 'Function', {
      entry: 'functions/dispatch/handler.ts',
      description: 'Dispatcher: ingress FIFO → Temporal update-with-start',
      memorySize: 512,
      // Records of one conversation run in order, each bounded by DISPATCH_UPDATE_TIMEOUT_MS
      // (20 s); the queue's visibility timeout (3 minutes) is longer than this.
      timeout: Duration.seconds(60),
      environment: {
        TEMPORAL_ADDRESS: props.temporal.address,
        TEMPORAL_NAMESPACE: props.temporal.namespace,
        TEMPORAL_TASK_QUEUE: props.temporal.taskQueue,
        DISPATCH_DEFAULT_AGENT: props.defaultAgent ?? 'assistant',
        ...(props.emailAgentDomain ? { EMAIL_AGENT_DOMAIN: props.emailAgentDomain } : {}),
        ...(props.agents && props.agents.length > 0 ? { DISPATCH_AGENTS: props.agents.join(',') } : {}),
      },
      ...(props.logRetentionDays ? { logRetentionDays: props.logRetentionDays } : {}),
    });
    this.function.addEventSource(new lambdaEvents.SqsEventSource(props.queue.queue, { batchSize: 10, reportBatchItemFailures: true }));
    props.secrets.bindTemporalToFunction(this.function);
    // The payload keys: the client seals what it starts and updates, and opens the answers.
    props.secrets.bindToFunction(this.function, ['APPROVAL_TOKEN_SECRET', 'PAYLOAD_KEYS']);
    acknowledgeBasicExecutionRole(this.function);
  }
}
