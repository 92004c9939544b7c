import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createApp, type CreatedApp } from '../../infra/create-app.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };

export const TEMPORAL_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:durable-agents/temporal-AbC123';
/** One secret per value, as an operator creates them. */
export const SECRET_ARNS = {
  SLACK_SIGNING_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:durable-agents/slack-signing-secret-Sl4ck1',
  APPROVAL_TOKEN_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:durable-agents/approval-token-secret-Appr0v',
  EMAIL_REPLY_TOKEN_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:durable-agents/email-reply-token-secret-Em4il1',
  GOOGLE_API_KEY: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:durable-agents/google-api-key-G00gle',
  SLACK_BOT_TOKEN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:durable-agents/slack-bot-token-B0tT0k',
  PAYLOAD_KEYS: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:durable-agents/payload-keys-K3ys01',
} as const;

/** Settings as an operator would give them: every placeholder replaced. */
export const DEPLOYED_CONTEXT = {
  account: '123456789012',
  region: 'eu-west-1',
  temporalAddress: 'agents.a1b2c.tmprl.cloud:7233',
  temporalNamespace: 'agents.a1b2c',
  temporalSecretArn: TEMPORAL_SECRET_ARN,
  slackSigningSecretArn: SECRET_ARNS.SLACK_SIGNING_SECRET,
  approvalTokenSecretArn: SECRET_ARNS.APPROVAL_TOKEN_SECRET,
  emailReplyTokenSecretArn: SECRET_ARNS.EMAIL_REPLY_TOKEN_SECRET,
  googleApiKeySecretArn: SECRET_ARNS.GOOGLE_API_KEY,
  slackBotTokenSecretArn: SECRET_ARNS.SLACK_BOT_TOKEN,
  payloadKeysSecretArn: SECRET_ARNS.PAYLOAD_KEYS,
  emailDomain: 'agents.example.com',
  emailAllowedSenders: '@example.com',
  emailConfigurationSet: 'agent-replies',
  dispatchAgents: 'assistant,researcher',
  workerEnvironment: '{"GEMINI_MODEL":"gemini-3.5-flash","APPROVAL_TIMEOUT":"2 hours"}',
};

export interface Synthesized extends CreatedApp {
  template: Template;
  outdir: string;
  /** The logical id of a construct's CloudFormation resource (its default child for L2s). */
  logicalId(construct: IConstruct): string;
  /** The files manifest: asset display name → staged folder. */
  assetFolder(displayName: string): string;
  dispose(): void;
}

/**
 * Builds the app exactly as infra/app.ts does, with cdk.json's feature flags and the
 * given settings, and synthesises it into a temporary folder; cdk-nag runs as part of the
 * synth, so an unacknowledged finding throws here.
 */
export interface SynthesizeOptions {
  /** Run esbuild; off for variants that only look at the template. @default true */
  bundle?: boolean;
  /** Adds to the stack before the synth, e.g. a resource cdk-nag should refuse. */
  extend?: (stack: Stack) => void;
}

export function synthesize(context: Record<string, unknown>, options: SynthesizeOptions = {}): Synthesized {
  const bundle = options.bundle ?? true;
  const outdir = mkdtempSync(join(tmpdir(), 'durable-agents-cdk-'));
  const created = createApp(
    new App({
      outdir,
      context: { ...cdkJson.context, ...context, ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    }),
  );
  options.extend?.(created.stack);
  try {
    created.app.synth();
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
  const template = Template.fromStack(created.stack);
  const assets = JSON.parse(readFileSync(join(outdir, `${created.stack.artifactId}.assets.json`), 'utf8')) as {
    files: Record<string, { displayName?: string; source: { path: string } }>;
  };
  return {
    ...created,
    template,
    outdir,
    logicalId(construct) {
      const element = (construct.node.defaultChild ?? construct) as CfnElement;
      return Stack.of(construct).getLogicalId(element);
    },
    assetFolder(displayName) {
      const asset = Object.values(assets.files).find((file) => file.displayName === displayName);
      if (!asset) throw new Error(`no asset named ${displayName}`);
      return join(outdir, asset.source.path);
    },
    dispose() {
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}
