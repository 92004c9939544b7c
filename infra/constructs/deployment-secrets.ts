import { SecretValue } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface DeploymentSecretsProps {
  /** Complete ARN of the secret with JSON `{ tlsCert, tlsKey, apiKey? }` for Temporal Cloud. */
  temporalSecretArn: string;
  /** Complete ARN of the secret with the app's shared secrets as JSON keys (`SLACK_SIGNING_SECRET`, …). */
  appSecretArn: string;
}

/**
 * The two Secrets Manager secrets the app reads, created outside the stack (their values
 * never pass through CDK) and imported by complete ARN: ECS cannot read a JSON key of a
 * secret named by a partial ARN.
 *
 * Lambda functions get values as deploy-time dynamic references (`{{resolve:secretsmanager:…}}`):
 * CloudFormation resolves them into the function's configuration, so they are visible to
 * anyone allowed `lambda:GetFunctionConfiguration`, and a rotated value reaches the function
 * only on the next deploy. In exchange the edge stays a plain-environment function with no
 * Secrets Manager call at cold start. The worker gets them as ECS secrets, fetched at task start.
 */
export class DeploymentSecrets extends Construct {
  readonly temporal: secretsmanager.ISecret;
  readonly app: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: DeploymentSecretsProps) {
    super(scope, id);
    this.temporal = secretsmanager.Secret.fromSecretCompleteArn(this, 'Temporal', props.temporalSecretArn);
    this.app = secretsmanager.Secret.fromSecretCompleteArn(this, 'App', props.appSecretArn);
  }

  /** A dynamic reference to one key of the app secret, for a Lambda environment variable. */
  appValue(key: string): string {
    return SecretValue.secretsManager(this.app.secretArn, { jsonField: key }).unsafeUnwrap();
  }

  /** One key of the app secret as an ECS container secret. */
  appForContainer(key: string): ecs.Secret {
    return ecs.Secret.fromSecretsManager(this.app, key);
  }

  /** One key of the Temporal secret as an ECS container secret. */
  temporalForContainer(key: 'tlsCert' | 'tlsKey' | 'apiKey'): ecs.Secret {
    return ecs.Secret.fromSecretsManager(this.temporal, key);
  }
}
