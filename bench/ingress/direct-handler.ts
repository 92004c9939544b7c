import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { handle } from 'hono/aws-lambda';
import * as z from 'zod';
import { loadSettingsFrom } from '../../config/load-settings.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import { slackEdgeSettingsSchema } from '../../config/slack-edge-settings.ts';
import type { EventQueue } from '../../functions/shared/event-queue.ts';

/**
 * The Slack edge the design rules out, for `npm run bench -- ingress`: the same Hono app
 * (signature check, normaliser, 200 only once the event is held), with the Temporal client
 * where the SQS queue was. Each event is signalled into its conversation's workflow,
 * starting it if need be. Connection settings come from `@temporalio/envconfig`
 * (`TEMPORAL_ADDRESS`, …); the connection is made on the first request and kept.
 */
const settingsSchema = slackEdgeSettingsSchema.omit({ INGRESS_QUEUE_URL: true }).extend({
  /** @default 'agents' */
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('agents'),
  /** Workflow type started for a new conversation; the bench runs no worker. @default 'conversation' */
  DIRECT_WORKFLOW_TYPE: z.string().trim().min(1).default('conversation'),
});
const settings = loadSettingsFrom(settingsSchema, process.env, 'direct ingress');

let connecting: Promise<Client> | undefined;
function temporalClient(): Promise<Client> {
  connecting ??= (async () => {
    const { connectionOptions, namespace } = loadClientConnectConfig();
    // The deadline ours gives SQS: Slack gives up after 3 s.
    const connection = await Connection.connect({ ...connectionOptions, connectTimeout: settings.INGRESS_QUEUE_TIMEOUT_MS });
    return new Client({ connection, ...(namespace ? { namespace } : {}) });
  })().catch((error: unknown) => {
    connecting = undefined;
    throw error;
  });
  return connecting;
}

const startInTemporal: EventQueue = {
  async send(event) {
    const client = await temporalClient();
    await client.workflow.signalWithStart(settings.DIRECT_WORKFLOW_TYPE, {
      workflowId: event.conversationId,
      taskQueue: settings.TEMPORAL_TASK_QUEUE,
      signal: 'message',
      signalArgs: [event],
    });
  },
};

// The app reads no queue setting; the URL is only there to fill the type.
const app = createSlackApp({ config: { ...settings, INGRESS_QUEUE_URL: 'temporal' }, queue: startInTemporal });

export const handler = handle(app);
