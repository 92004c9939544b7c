import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DurableAgentsStack } from './durable-agents-stack.ts';
import { deploymentSettingsSchema, parseDeploymentSettings, type DeploymentSettings } from '../config/infra-settings.ts';

export interface CreatedApp {
  app: App;
  stack: DurableAgentsStack;
  settings: DeploymentSettings;
}

/**
 * The app: one stack from the context's settings, checked by cdk-nag's AwsSolutions pack
 * as a policy-validation plugin, so an unacknowledged finding fails the synth. The tests
 * build it the same way.
 */
export function createApp(app: App = new App()): CreatedApp {
  const context = Object.fromEntries(Object.keys(deploymentSettingsSchema.shape).map((key) => [key, app.node.tryGetContext(key)]));
  const settings = parseDeploymentSettings(context);
  const stack = new DurableAgentsStack(app, settings.stackName, {
    settings,
    ...(settings.account || settings.region ? { env: { account: settings.account, region: settings.region } } : {}),
    description: 'durable-agents: Slack and email ingress, dispatcher, agent worker',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, settings };
}
