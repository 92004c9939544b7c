import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The values the app keeps secret. Each is its own secret, so each role reads exactly the values it uses. */
export const APP_SECRET_NAMES = [
  'SLACK_SIGNING_SECRET',
  'APPROVAL_TOKEN_SECRET',
  'EMAIL_REPLY_TOKEN_SECRET',
  'GOOGLE_API_KEY',
  'SLACK_BOT_TOKEN',
  'PAYLOAD_KEYS',
] as const;
export type AppSecretName = (typeof APP_SECRET_NAMES)[number];

export interface DeploymentSecretsProps {
  /** Complete ARN of the secret with JSON `{ tlsCert, tlsKey, apiKey? }` for Temporal Cloud. */
  temporalSecretArn: string;
  /** Complete ARN of each app secret (a plain `SecretString`); `SLACK_BOT_TOKEN` may be left out (no Slack replies). */
  appSecretArns: Partial<Record<AppSecretName, string>>;
}

/**
 * The Secrets Manager secrets the app reads, created outside the stack (their values never
 * pass through CDK) and imported by complete ARN, so grants name them exactly (a partial ARN
 * becomes a `-??????` wildcard).
 *
 * No value, and no dynamic reference to one, goes into any configuration. A function gets
 * each secret's ARN (`<NAME>_ARN`) and read on exactly that ARN, and reads the value at cold
 * start (functions/shared/secrets.ts). The worker gets ECS container secrets: ECS reads them
 * with the task's execution role when a task starts and injects them as variables; the task
 * definition holds only the ARN.
 */
export class DeploymentSecrets extends Construct {
  readonly temporal: secretsmanager.ISecret;
  readonly app: Partial<Record<AppSecretName, secretsmanager.ISecret>>;

  constructor(scope: Construct, id: string, props: DeploymentSecretsProps) {
    super(scope, id);
    this.temporal = secretsmanager.Secret.fromSecretCompleteArn(this, 'Temporal', props.temporalSecretArn);
    this.app = Object.fromEntries(
      APP_SECRET_NAMES.flatMap((name) => {
        const arn = props.appSecretArns[name];
        return arn ? [[name, secretsmanager.Secret.fromSecretCompleteArn(this, name, arn)]] : [];
      }),
    );
  }

  /** The secret holding `name`; a deploy without it cannot give it to anyone. */
  secret(name: AppSecretName): secretsmanager.ISecret {
    const secret = this.app[name];
    if (!secret) throw new Error(`No secret ARN was given for ${name}`);
    return secret;
  }

  /** Those of `names` whose ARN the deploy was given (the optional ones may be left out). */
  present(names: AppSecretName[]): AppSecretName[] {
    return names.filter((name) => this.app[name] !== undefined);
  }

  /** Gives a function `<NAME>_ARN` for each secret and read on exactly those ARNs; never a value. */
  bindToFunction(fn: lambda.Function, names: AppSecretName[]): void {
    for (const name of names) {
      const secret = this.secret(name);
      fn.addEnvironment(`${name}_ARN`, secret.secretArn);
      secret.grantRead(fn);
    }
  }

  /** `TEMPORAL_SECRET_ARN` and read on it: the dispatcher reads its certificate and key at cold start. */
  bindTemporalToFunction(fn: lambda.Function): void {
    fn.addEnvironment('TEMPORAL_SECRET_ARN', this.temporal.secretArn);
    this.temporal.grantRead(fn);
  }

  /** App secrets as ECS container secrets, each under its own name; ECS grants the execution role read on each. */
  forContainer(names: AppSecretName[]): Record<string, ecs.Secret> {
    return Object.fromEntries(
      names.filter((name) => this.app[name]).map((name) => [name, ecs.Secret.fromSecretsManager(this.secret(name))]),
    );
  }

  /** One key of the Temporal secret as an ECS container secret. */
  temporalForContainer(key: 'tlsCert' | 'tlsKey' | 'apiKey'): ecs.Secret {
    return ecs.Secret.fromSecretsManager(this.temporal, key);
  }
}
