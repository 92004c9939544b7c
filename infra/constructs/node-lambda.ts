import { fileURLToPath } from 'node:url';
import { type CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The repository root: entry files, package-lock.json and tsconfig.json are found from here. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface NodeLambdaProps {
  /** Entry file, relative to the repository root, e.g. `functions/slack/handler.ts`. */
  entry: string;
  /** @default 'handler' */
  handler?: string;
  description: string;
  /** @default 256 */
  memorySize?: number;
  /** @default 10 seconds */
  timeout?: Duration;
  environment?: Record<string, string>;
  /** Days the function's log group keeps events. @default 30 */
  logRetentionDays?: number;
  /** Concurrency reserved for (and capping) the function. @default none: it shares the account's pool */
  reservedConcurrentExecutions?: number;
}

/**
 * A Node.js 24 Lambda function on arm64 with the opinions shared by every function here:
 * a minified ESM bundle built by the local esbuild (never Docker), the AWS SDK v3 left out
 * (the runtime provides it), its own log group with a retention, and JSON logs.
 */
export function createNodeLambda(scope: Construct, id: string, props: NodeLambdaProps): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: retentionOf(props.logRetentionDays ?? 30),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: `${REPOSITORY_ROOT}${props.entry}`,
    handler: props.handler ?? 'handler',
    description: props.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize ?? 256,
    timeout: props.timeout ?? Duration.seconds(10),
    environment: props.environment ?? {},
    ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    projectRoot: REPOSITORY_ROOT,
    depsLockFilePath: `${REPOSITORY_ROOT}package-lock.json`,
    bundling: {
      forceDockerBundling: false,
      format: nodejs.OutputFormat.ESM,
      target: 'node24',
      minify: true,
      sourceMap: false,
      mainFields: ['module', 'main'],
      externalModules: ['@aws-sdk/*'],
      // CommonJS dependencies (gRPC, protobufjs) call require() for Node built-ins; an ESM
      // bundle has no require of its own.
      banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      tsconfig: `${REPOSITORY_ROOT}tsconfig.json`,
      logLevel: nodejs.LogLevel.ERROR,
    },
  });
  // CDK makes the function depend on its role (and the role's policy, so the first
  // invocation already has its permissions) while Role is also a GetAtt of it; cfn-lint's
  // W3005 flags the redundant half of that, which CDK offers no way to drop.
  (fn.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
  return fn;
}

/** The CloudWatch Logs retention closest to, and not shorter than, the days asked for. */
export function retentionOf(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays)
    .filter((value): value is logs.RetentionDays => typeof value === 'number' && value > 0)
    .sort((a, b) => a - b);
  return allowed.find((value) => value >= days) ?? logs.RetentionDays.INFINITE;
}
