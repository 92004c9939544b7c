import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPayloadKeyJson } from '../../temporal-client/payload-encryption.ts';
import { MOTO_CLIENT_CONFIG, startMoto } from '../../testkit/moto.ts';
import { DEPLOYED_CONTEXT, SECRET_ARNS, synthesize, TEMPORAL_SECRET_ARN, type Synthesized } from './synth.ts';

const manifestPrompts = (
  JSON.parse(readFileSync(new URL('../../slack/manifest.json', import.meta.url), 'utf8')) as {
    features: { agent_view: { suggested_prompts: unknown[] } };
  }
).features.agent_view.suggested_prompts;

type Statement = { Action: string | string[]; Effect: string; Resource: unknown };

/** Every statement of the identity policies attached to a role. */
function statementsOf(synthesized: Synthesized, roleLogicalId: string): Statement[] {
  const policies = synthesized.template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) },
  });
  return Object.values(policies).flatMap(
    (policy) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
}

const actionsOf = (statements: Statement[]) => statements.flatMap((statement) => [statement.Action].flat());

describe('the stack, as deployed with real settings', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthesize(DEPLOYED_CONTEXT);
  });
  afterAll(() => synthesized?.dispose());

  const role = (fn: { role?: unknown }) => synthesized.logicalId(fn.role as never);

  it('runs every function on Node.js 24, arm64, as an ESM bundle built by the local esbuild', () => {
    const functions = synthesized.template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(3);
    for (const fn of Object.values(functions) as { Properties: Record<string, unknown> }[]) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON' },
      });
    }
    for (const name of ['Slack/Function/Code', 'Email/Function/Code', 'Dispatch/Function/Code']) {
      expect(readdirSync(synthesized.assetFolder(name))).toEqual(['index.mjs']);
    }
    // The edge stays small; the dispatcher carries the gRPC client.
    expect(statSync(join(synthesized.assetFolder('Slack/Function/Code'), 'index.mjs')).size).toBeLessThan(1.5 * 1024 * 1024);
  });

  it("serves Slack from a Function URL without IAM auth, with the queue and its secrets' ARNs in its environment", () => {
    synthesized.template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [synthesized.logicalId(synthesized.stack.slackIngress.function), 'Arn'] },
    });
    synthesized.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          INGRESS_QUEUE_URL: { Ref: synthesized.logicalId(synthesized.stack.ingressQueue.queue) },
          SLACK_SIGNING_SECRET_ARN: SECRET_ARNS.SLACK_SIGNING_SECRET,
          APPROVAL_TOKEN_SECRET_ARN: SECRET_ARNS.APPROVAL_TOKEN_SECRET,
          SLACK_BOT_TOKEN_ARN: SECRET_ARNS.SLACK_BOT_TOKEN,
          // The prompts set when a person opens the agent's DM: the manifest's agent_view prompts.
          SLACK_SUGGESTED_PROMPTS: JSON.stringify(manifestPrompts),
        }),
      },
    });
    synthesized.template.hasOutput('SlackRequestUrl', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('FunctionUrl'), 'FunctionUrl'] } });
  });

  it('queues FIFO without content-based deduplication, into a FIFO dead-letter queue after 5 receives', () => {
    const { queue, deadLetterQueue } = synthesized.stack.ingressQueue;
    synthesized.template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [synthesized.logicalId(deadLetterQueue), 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(synthesized.template.toJSON().Resources[synthesized.logicalId(deadLetterQueue)].Properties).toMatchObject({ FifoQueue: true });
    // TLS only, on every queue.
    synthesized.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: synthesized.logicalId(queue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    synthesized.template.hasOutput('IngressQueueUrl', { Value: { Ref: synthesized.logicalId(queue) } });
  });

  it('lets the edge functions send to the ingress queue and nothing more', () => {
    for (const fn of [synthesized.stack.slackIngress.function, synthesized.stack.emailIngress.function]) {
      const onIngressQueue = statementsOf(synthesized, role(fn)).filter((statement) =>
        JSON.stringify(statement.Resource).includes(synthesized.logicalId(synthesized.stack.ingressQueue.queue)),
      );
      expect(actionsOf(onIngressQueue).sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    }
    expect(actionsOf(statementsOf(synthesized, role(synthesized.stack.slackIngress.function)))).not.toContain('sqs:ReceiveMessage');
    expect(
      actionsOf(statementsOf(synthesized, role(synthesized.stack.slackIngress.function))).filter(
        (action) => !/^(sqs|secretsmanager):/.test(action),
      ),
    ).toEqual([]);
  });

  it('puts no secret value, and no reference that resolves to one, in any configuration', () => {
    const template = synthesized.template.toJSON() as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    // Nowhere in the template: a dynamic reference is resolved into the resource's configuration at deploy time.
    expect(JSON.stringify(template)).not.toMatch(/\{\{resolve:(secretsmanager|ssm-secure)/);
    const secretVariables = new Set([
      ...Object.keys(SECRET_ARNS),
      'TEMPORAL_TLS_CLIENT_CERT_DATA',
      'TEMPORAL_TLS_CLIENT_KEY_DATA',
      'TEMPORAL_API_KEY',
    ]);
    const functions = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(3);
    for (const [id, fn] of functions) {
      const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      for (const [name, value] of Object.entries(variables)) {
        expect(secretVariables.has(name), `${id} has ${name} in its environment`).toBe(false);
        // A variable that names a secret holds its ARN, which only IAM turns into a value.
        if (/SECRET/.test(name)) expect([...Object.values(SECRET_ARNS), TEMPORAL_SECRET_ARN], `${id}.${name}`).toContain(value);
      }
    }
    // The worker's task definition names its secrets by ARN; ECS injects the values when a task starts.
    const container = template.Resources[synthesized.logicalId(synthesized.stack.worker.taskDefinition)]!.Properties!
      .ContainerDefinitions as { Environment: { Name: string }[] }[];
    expect(container[0]!.Environment.map((variable) => variable.Name).filter((name) => secretVariables.has(name))).toEqual([]);
  });

  it('lets each role read exactly its own secrets, by complete ARN', () => {
    const { slackIngress, emailIngress, dispatcher, worker } = synthesized.stack;
    const secretReads = (roleLogicalId: string) => {
      const statements = statementsOf(synthesized, roleLogicalId).filter((statement) =>
        actionsOf([statement]).some((action) => action.startsWith('secretsmanager:')),
      );
      expect(
        actionsOf(statements).every((action) => ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'].includes(action)),
      ).toBe(true);
      return statements.flatMap((statement) => [statement.Resource].flat()).sort();
    };
    // The Slack edge reads the bot token too when one is deployed: a slash command's root message is posted with it.
    expect(secretReads(role(slackIngress.function))).toEqual(
      [SECRET_ARNS.APPROVAL_TOKEN_SECRET, SECRET_ARNS.SLACK_BOT_TOKEN, SECRET_ARNS.SLACK_SIGNING_SECRET].sort(),
    );
    expect(secretReads(role(emailIngress.function))).toEqual([SECRET_ARNS.EMAIL_REPLY_TOKEN_SECRET]);
    expect(secretReads(role(dispatcher.function))).toEqual(
      [SECRET_ARNS.APPROVAL_TOKEN_SECRET, SECRET_ARNS.PAYLOAD_KEYS, TEMPORAL_SECRET_ARN].sort(),
    );
    // The worker's code reads none; its execution role reads them for ECS at task start.
    expect(secretReads(synthesized.logicalId(worker.taskDefinition.taskRole))).toEqual([]);
    expect(secretReads(synthesized.logicalId(worker.taskDefinition.obtainExecutionRole()))).toEqual(
      [
        SECRET_ARNS.GOOGLE_API_KEY,
        SECRET_ARNS.APPROVAL_TOKEN_SECRET,
        SECRET_ARNS.EMAIL_REPLY_TOKEN_SECRET,
        SECRET_ARNS.SLACK_BOT_TOKEN,
        SECRET_ARNS.PAYLOAD_KEYS,
        TEMPORAL_SECRET_ARN,
      ].sort(),
    );
  });

  it('runs the dispatcher on the FIFO queue in batches of 10, reporting failures per message', () => {
    synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [synthesized.logicalId(synthesized.stack.ingressQueue.queue), 'Arn'] },
      FunctionName: { Ref: synthesized.logicalId(synthesized.stack.dispatcher.function) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    synthesized.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TEMPORAL_ADDRESS: 'agents.a1b2c.tmprl.cloud:7233',
          TEMPORAL_NAMESPACE: 'agents.a1b2c',
          TEMPORAL_TASK_QUEUE: 'agents',
          TEMPORAL_SECRET_ARN: TEMPORAL_SECRET_ARN,
          APPROVAL_TOKEN_SECRET_ARN: SECRET_ARNS.APPROVAL_TOKEN_SECRET,
          PAYLOAD_KEYS_ARN: SECRET_ARNS.PAYLOAD_KEYS,
          EMAIL_AGENT_DOMAIN: 'agents.example.com',
          DISPATCH_AGENTS: 'assistant,researcher',
        }),
      },
    });
  });

  it('lets the dispatcher consume the FIFO queue', () => {
    const dispatcherRole = role(synthesized.stack.dispatcher.function);
    synthesized.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: dispatcherRole }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: Match.arrayWith(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']),
            Resource: { 'Fn::GetAtt': [synthesized.logicalId(synthesized.stack.ingressQueue.queue), 'Arn'] },
          }),
        ]),
      },
    });
    expect(actionsOf(statementsOf(synthesized, dispatcherRole))).not.toContain('sqs:SendMessage');
  });

  it('stores inbound mail in the bucket under its prefix and notifies SNS, which feeds the email function', () => {
    const { emailIngress, bucket } = synthesized.stack;
    synthesized.template.hasResourceProperties('AWS::SES::ReceiptRule', {
      Rule: Match.objectLike({
        Enabled: true,
        ScanEnabled: true,
        Recipients: ['agents.example.com'],
        Actions: [
          {
            S3Action: {
              BucketName: { Ref: synthesized.logicalId(bucket.bucket) },
              ObjectKeyPrefix: 'inbound-mail/',
              TopicArn: { Ref: synthesized.logicalId(emailIngress.topic) },
            },
          },
        ],
      }),
    });
    synthesized.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'ses.amazonaws.com' },
            Action: 's3:PutObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [synthesized.logicalId(bucket.bucket), 'Arn'] }, '/inbound-mail/*']] },
          }),
        ]),
      },
    });
    synthesized.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'ses.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
    synthesized.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    synthesized.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      TopicArn: { Ref: synthesized.logicalId(emailIngress.topic) },
      Endpoint: { 'Fn::GetAtt': [synthesized.logicalId(emailIngress.notificationQueue), 'Arn'] },
    });
    synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [synthesized.logicalId(emailIngress.notificationQueue), 'Arn'] },
      FunctionName: { Ref: synthesized.logicalId(emailIngress.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // The email function reads raw mail and the thread records, and writes attachment blobs; it reads no transcript, approval or conversation.
    const emailStatements = statementsOf(synthesized, role(emailIngress.function)).filter((statement) =>
      JSON.stringify(statement.Resource).includes(synthesized.logicalId(bucket.bucket)),
    );
    const bucketArn = { 'Fn::GetAtt': [synthesized.logicalId(bucket.bucket), 'Arn'] };
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });
    expect(emailStatements).toEqual([
      expect.objectContaining({ Action: 's3:ListBucket' }),
      expect.objectContaining({
        Action: 's3:GetObject',
        Resource: [objects('inbound-mail/'), objects('transcripts/email-threads/message/'), objects('transcripts/email-threads/token/')],
      }),
      expect.objectContaining({ Action: 's3:PutObject', Resource: objects('transcripts/blobs/') }),
    ]);
  });

  it('keeps the bucket private, encrypted and TLS-only', () => {
    synthesized.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'inbound-mail/', ExpirationInDays: 90, Status: 'Enabled' })]),
      },
    });
    synthesized.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('lets the worker read and write transcripts, read raw mail and send mail as the domain', () => {
    const { worker, bucket } = synthesized.stack;
    const bucketArn = { 'Fn::GetAtt': [synthesized.logicalId(bucket.bucket), 'Arn'] };
    synthesized.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: synthesized.logicalId(worker.taskDefinition.taskRole) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn }),
          Match.objectLike({
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject'],
            Resource: { 'Fn::Join': ['', [bucketArn, '/transcripts/*']] },
          }),
          Match.objectLike({ Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [bucketArn, '/inbound-mail/*']] } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: ['ses:SendEmail', 'ses:SendRawEmail'],
            Resource: [
              'arn:aws:ses:eu-west-1:123456789012:configuration-set/agent-replies',
              'arn:aws:ses:eu-west-1:123456789012:identity/agents.example.com',
            ],
          }),
        ]),
      },
    });
  });

  it('runs the worker on Fargate arm64 with Temporal Cloud mTLS, the S3 store, and a rollback on failed deploys', () => {
    const { worker, bucket } = synthesized.stack;
    synthesized.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '512',
      Memory: '1024',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          StopTimeout: 120,
          Environment: Match.arrayWith([
            { Name: 'TEMPORAL_ADDRESS', Value: 'agents.a1b2c.tmprl.cloud:7233' },
            { Name: 'TEMPORAL_NAMESPACE', Value: 'agents.a1b2c' },
            // Worker versioning: the image's tag is the build id.
            { Name: 'TEMPORAL_DEPLOYMENT_NAME', Value: 'durable-agents' },
            { Name: 'TEMPORAL_BUILD_ID', Value: worker.buildId },
            { Name: 'TRANSCRIPT_STORE', Value: 's3' },
            { Name: 'TRANSCRIPT_BUCKET', Value: { Ref: synthesized.logicalId(bucket.bucket) } },
            { Name: 'TRANSCRIPT_PREFIX', Value: 'transcripts/' },
            { Name: 'EMAIL_CONFIGURATION_SET', Value: 'agent-replies' },
            // Running calls finish before the stop timeout's SIGKILL.
            { Name: 'WORKER_SHUTDOWN_GRACE_TIME', Value: '100 seconds' },
            // A 1 GiB task less the collector's 256 MiB: (768 − 512) ÷ 1.5 cached workflows.
            { Name: 'WORKER_MAX_CACHED_WORKFLOWS', Value: '170' },
            { Name: 'GEMINI_MODEL', Value: 'gemini-3.5-flash' },
            { Name: 'APPROVAL_TIMEOUT', Value: '2 hours' },
          ]),
          Secrets: Match.arrayWith([
            { Name: 'TEMPORAL_TLS_CLIENT_CERT_DATA', ValueFrom: `${TEMPORAL_SECRET_ARN}:tlsCert::` },
            { Name: 'TEMPORAL_TLS_CLIENT_KEY_DATA', ValueFrom: `${TEMPORAL_SECRET_ARN}:tlsKey::` },
            { Name: 'GOOGLE_API_KEY', ValueFrom: SECRET_ARNS.GOOGLE_API_KEY },
            { Name: 'APPROVAL_TOKEN_SECRET', ValueFrom: SECRET_ARNS.APPROVAL_TOKEN_SECRET },
            { Name: 'EMAIL_REPLY_TOKEN_SECRET', ValueFrom: SECRET_ARNS.EMAIL_REPLY_TOKEN_SECRET },
            { Name: 'SLACK_BOT_TOKEN', ValueFrom: SECRET_ARNS.SLACK_BOT_TOKEN },
            { Name: 'PAYLOAD_KEYS', ValueFrom: SECRET_ARNS.PAYLOAD_KEYS },
          ]),
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ]),
    });
    synthesized.template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 1,
      DeploymentConfiguration: {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
    // Nothing may connect in.
    const securityGroup = synthesized.template.toJSON().Resources[synthesized.logicalId(worker.service.connections.securityGroups[0]!)];
    expect(securityGroup.Properties.SecurityGroupIngress).toBeUndefined();
    synthesized.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    synthesized.template.resourceCountIs('AWS::ECS::Service', 1);
    expect(worker.buildId).toMatch(/^[0-9a-f]{64}$/);
    synthesized.template.hasOutput('WorkerBuildId', { Value: worker.buildId });
    synthesized.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const image = readdirSync(synthesized.outdir).find(
      (name) => name.startsWith('asset.') && existsSync(join(synthesized.outdir, name, 'worker', 'Dockerfile')),
    );
    expect(image, 'the worker image context is staged').toBeDefined();
    const context = readdirSync(join(synthesized.outdir, image!));
    expect(context).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'worker', 'workflows', 'core', 'store', 'agents']),
    );
    expect(context).not.toEqual(expect.arrayContaining(['node_modules']));
    for (const excluded of ['node_modules', 'infra', 'bench', '.git', 'cdk.out']) expect(context).not.toContain(excluded);
    // Of the tests, only the recorded histories: the image's workflow bundle replays them as it is built.
    expect(readdirSync(join(synthesized.outdir, image!, 'test'))).toEqual(['replay']);
    expect(readdirSync(join(synthesized.outdir, image!, 'test', 'replay'))).toEqual(['histories']);
    expect(readdirSync(join(synthesized.outdir, image!, 'test', 'replay', 'histories')).length).toBeGreaterThan(10);
  });

  it('passes cdk-nag AwsSolutions: every finding is fixed or acknowledged with a reason', () => {
    const report = new AwsSolutionsChecks().validateScope(synthesized.app);
    expect(
      report.violations.map(
        (violation) => `${violation.ruleName} at ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('warns about no placeholder once the settings are given', () => {
    Annotations.fromStack(synthesized.stack).hasNoWarning('*', Match.stringLikeRegexp('Placeholder settings'));
  });

  it('keeps logical ids stable (a changed id replaces the resource)', () => {
    const resources = synthesized.template.toJSON().Resources as Record<string, { Type: string }>;
    const ids = Object.fromEntries(
      Object.entries(resources)
        .map(([id, resource]) => [id, resource.Type])
        .sort(([a], [b]) => (a! < b! ? -1 : 1)),
    );
    expect(ids).toMatchSnapshot();
  });

  it('produces bundles that load and answer in the Lambda runtime layout', async () => {
    // Lambda provides @aws-sdk/*; here the repository's node_modules does, so the bundles
    // are loaded from a folder inside it.
    const folder = join(import.meta.dirname, '..', '..', '.data', `infra-bundles-${process.pid}`);
    mkdirSync(folder, { recursive: true });
    // The secrets come from Secrets Manager (moto's) at cold start, as in AWS.
    const moto = await startMoto();
    const secretsManager = new SecretsManagerClient({ ...MOTO_CLIENT_CONFIG, region: 'eu-west-1', endpoint: moto.endpoint });
    const secretArn = async (name: string, value: string) =>
      (await secretsManager.send(new CreateSecretCommand({ Name: `${name}-${crypto.randomUUID()}`, SecretString: value }))).ARN!;
    const environment = {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
      INGRESS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingress.fifo',
      SLACK_SIGNING_SECRET_ARN: await secretArn('signing', 'signing'),
      APPROVAL_TOKEN_SECRET_ARN: await secretArn('approval', 'approval'),
      PAYLOAD_KEYS_ARN: await secretArn('payload-keys', JSON.stringify({ keys: [newPayloadKeyJson('k1')] })),
      EMAIL_ALLOWED_SENDERS: '@example.com',
      EMAIL_REPLY_TOKEN_SECRET_ARN: await secretArn('reply', 'reply'),
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    };
    const saved = Object.fromEntries(Object.keys(environment).map((key) => [key, process.env[key]]));
    try {
      Object.assign(process.env, environment);
      const load = async (name: string, file: string) => {
        copyFileSync(join(synthesized.assetFolder(name), 'index.mjs'), join(folder, file));
        return (await import(join(folder, file))) as { handler: (...args: unknown[]) => Promise<unknown> };
      };
      const dispatch = await load('Dispatch/Function/Code', 'dispatch.mjs');
      await expect(dispatch.handler({ Records: [] })).resolves.toEqual({ batchItemFailures: [] });
      const email = await load('Email/Function/Code', 'email.mjs');
      await expect(email.handler({ Records: [] })).resolves.toEqual({ batchItemFailures: [] });
      const slack = await load('Slack/Function/Code', 'slack.mjs');
      const unsigned = await slack.handler(
        {
          version: '2.0',
          rawPath: '/slack/events',
          headers: { 'content-type': 'application/json' },
          body: '{}',
          isBase64Encoded: false,
          requestContext: { http: { method: 'POST', path: '/slack/events' } },
        },
        {},
      );
      expect(unsigned).toMatchObject({ statusCode: 401 });
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      rmSync(folder, { recursive: true, force: true });
      secretsManager.destroy();
      await moto.stop();
    }
  });
});

describe('variants', () => {
  it('api-key auth, x86_64, NAT gateways and no email settings: still clean under cdk-nag, and mail only as the placeholder domain', () => {
    const synthesized = synthesize(
      {
        ...DEPLOYED_CONTEXT,
        emailDomain: undefined,
        emailConfigurationSet: undefined,
        temporalAuth: 'api-key',
        workerArchitecture: 'x86_64',
        natGateways: '2',
        workerDesiredCount: '3',
        maxReceiveCount: '8',
      },
      { bundle: false },
    );
    try {
      const { template } = synthesized;
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        RuntimePlatform: { CpuArchitecture: 'X86_64' },
        ContainerDefinitions: Match.arrayWith([
          Match.objectLike({ Secrets: Match.arrayWith([{ Name: 'TEMPORAL_API_KEY', ValueFrom: `${TEMPORAL_SECRET_ARN}:apiKey::` }]) }),
        ]),
      });
      const secrets = (
        template.toJSON().Resources[synthesized.logicalId(synthesized.stack.worker.taskDefinition)].Properties.ContainerDefinitions[0]
          .Secrets as { Name: string }[]
      ).map((secret) => secret.Name);
      expect(secrets).not.toContain('TEMPORAL_TLS_CLIENT_CERT_DATA');
      template.resourceCountIs('AWS::EC2::NatGateway', 2);
      template.hasResourceProperties('AWS::ECS::Service', {
        DesiredCount: 3,
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      });
      template.hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, RedrivePolicy: Match.objectLike({ maxReceiveCount: 8 }) });
      // emailDomain is required: left out, its placeholder still scopes the rule and the worker's SES identity (and deploy --strict fails).
      template.hasResourceProperties('AWS::SES::ReceiptRule', { Rule: Match.objectLike({ Recipients: ['agents.example.invalid'] }) });
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: synthesized.logicalId(synthesized.stack.worker.taskDefinition.taskRole) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['ses:SendEmail', 'ses:SendRawEmail'],
              Resource: [
                'arn:aws:ses:eu-west-1:123456789012:configuration-set/*',
                'arn:aws:ses:eu-west-1:123456789012:identity/agents.example.invalid',
              ],
            }),
          ]),
        },
      });
      expect(new AwsSolutionsChecks().validateScope(synthesized.app).violations).toEqual([]);
    } finally {
      synthesized.dispose();
    }
  });

  it("keeps a service on each draining version's own image, started before the new version replaces the main tasks", () => {
    const synthesized = synthesize({ ...DEPLOYED_CONTEXT, workerDrainingBuildIds: 'aaa111,bbb222' }, { bundle: false });
    try {
      const { template, stack } = synthesized;
      template.resourceCountIs('AWS::ECS::Service', 3);
      expect(stack.worker.drainingServices).toHaveLength(2);
      for (const [index, buildId] of ['aaa111', 'bbb222'].entries()) {
        const service = stack.worker.drainingServices[index]!;
        const resources = template.toJSON().Resources;
        const taskDefinition = resources[synthesized.logicalId(service.taskDefinition)].Properties;
        const container = taskDefinition.ContainerDefinitions[0];
        expect(container.Environment).toEqual(
          expect.arrayContaining([
            { Name: 'TEMPORAL_DEPLOYMENT_NAME', Value: 'durable-agents' },
            { Name: 'TEMPORAL_BUILD_ID', Value: buildId },
          ]),
        );
        expect(JSON.stringify(container.Image)).toContain(`:${buildId}`);
        expect(resources[synthesized.logicalId(service)].Properties.DesiredCount).toBe(1);
        expect(resources[synthesized.logicalId(stack.worker.service)].DependsOn).toContain(synthesized.logicalId(service));
      }
      expect(new AwsSolutionsChecks().validateScope(synthesized.app).violations).toEqual([]);
    } finally {
      synthesized.dispose();
    }
  });

  it('runs unversioned workers when workerDeploymentName is empty', () => {
    const synthesized = synthesize({ ...DEPLOYED_CONTEXT, workerDeploymentName: '', workerDrainingBuildIds: 'aaa111' }, { bundle: false });
    try {
      const { template, stack } = synthesized;
      template.resourceCountIs('AWS::ECS::Service', 1);
      const container = template.toJSON().Resources[synthesized.logicalId(stack.worker.taskDefinition)].Properties.ContainerDefinitions[0];
      expect((container.Environment as { Name: string }[]).map((variable) => variable.Name)).not.toContain('TEMPORAL_BUILD_ID');
      expect(Object.keys(template.findOutputs('WorkerBuildId'))).toEqual([]);
    } finally {
      synthesized.dispose();
    }
  });

  it('synthesises with no settings at all, and says which placeholders remain', () => {
    const synthesized = synthesize({}, { bundle: false });
    try {
      Annotations.fromStack(synthesized.stack).hasWarning(
        '*',
        Match.stringLikeRegexp(
          'Placeholder settings in use \\(temporalAddress, temporalNamespace, temporalSecretArn, slackSigningSecretArn, approvalTokenSecretArn, emailReplyTokenSecretArn, googleApiKeySecretArn, emailDomain, payloadKeysSecretArn\\)',
        ),
      );
      expect(synthesized.stack.resolve(synthesized.stack.account)).toEqual({ Ref: 'AWS::AccountId' });
    } finally {
      synthesized.dispose();
    }
  });

  it('fails the synth on an unacknowledged cdk-nag finding', () => {
    const looseBucket = (stack: Stack) => new s3.Bucket(stack, 'Loose');
    expect(() => synthesize(DEPLOYED_CONTEXT, { bundle: false, extend: looseBucket })).toThrow(/AwsSolutions-S10/);
  });

  it('rejects a setting it cannot use, naming the key', () => {
    expect(() => synthesize({ temporalSecretArn: 'durable-agents/temporal' }, { bundle: false })).toThrow(
      /temporalSecretArn: must be the complete ARN/,
    );
    expect(() => synthesize({ natGateways: 'three' }, { bundle: false })).toThrow(/natGateways/);
    expect(() => synthesize({ workerEnvironment: 'GEMINI_MODEL=x' }, { bundle: false })).toThrow(
      /workerEnvironment: must be a JSON object of strings/,
    );
    expect(() => synthesize({ workerDeploymentName: 'agents.prod' }, { bundle: false })).toThrow(
      /workerDeploymentName: may not contain dots/,
    );
  });
});
