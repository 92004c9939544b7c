import { ConfigError, settingsOrExit } from '../config/load-settings.ts';
import { createSlackApp } from '../functions/slack/app.ts';
import { jsonLog } from '../functions/shared/log.ts';
import { credentialsFromEnvironment, sqsTargetFromEnvironment } from '../functions/shared/aws-signature.ts';
import { createSqsEventQueue } from '../functions/shared/event-queue.ts';
import { createSlackPoster, createSuggestedPromptsSetter } from '../functions/slack/slack-post.ts';
import { serveOnNode } from './node-server.ts';
import { loadSlackEdgeRunnerSettings } from '../config/local-settings.ts';

// `npm run ingress`: the Slack Lambda's app and its signed SendMessage on a local port. Point it
// at a local SQS with AWS_ENDPOINT_URL_SQS (or AWS_ENDPOINT_URL); it signs with the credentials
// in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Slack reaches it through a tunnel.
const settings = settingsOrExit(() => loadSlackEdgeRunnerSettings(process.env));
const { PORT: port, HOST: host } = settings.server;
const credentials = settingsOrExit(() => {
  try {
    return credentialsFromEnvironment(process.env);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
});
const queue = createSqsEventQueue({
  queueUrl: settings.edge.INGRESS_QUEUE_URL,
  ...sqsTargetFromEnvironment(process.env),
  credentials: () => credentials,
  timeoutMs: settings.edge.INGRESS_QUEUE_TIMEOUT_MS,
});
const { SLACK_BOT_TOKEN: token, SLACK_API_URL: apiUrl } = settings.edge;
const api = token ? { token, ...(apiUrl ? { apiUrl } : {}) } : undefined;
const withToken = api ? { postRootMessage: createSlackPoster(api), setSuggestedPrompts: createSuggestedPromptsSetter(api) } : {};
const server = await serveOnNode(createSlackApp({ config: settings.edge, queue, ...withToken }), port, host);
jsonLog({ msg: 'ingress listening', url: `http://${host}:${port}` });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
