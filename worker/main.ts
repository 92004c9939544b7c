import { Client } from '@temporalio/client';
import { encryptedDataConverter } from '../temporal-client/payload-encryption.ts';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createTracing } from '../telemetry/tracing.ts';
import { missingSearchAttributes, registerSearchAttributesHint } from '../temporal-client/search-attribute-check.ts';
import { connectTo, temporalTargetFrom, TemporalConnectionError } from '../temporal-client/temporal-connection.ts';
import { settingsOrExit } from '../config/load-settings.ts';
import { registryFrom, createWorkerFromSettings } from './from-settings.ts';
import { replyAdaptersFrom, slackAnswerStreamsFrom } from './replies/adapters.ts';
import { deploymentVersionOf, loadWorkerSettings } from '../config/worker-settings.ts';
import { promoteVersion } from '../temporal-client/worker-deployment.ts';
import { syncSchedulesAtStart } from './sync-at-start.ts';
import { prebuiltWorkflowBundle } from './prebuilt-bundle.ts';
import { createWorkerCounts } from '../telemetry/cloudwatch-metrics.ts';
import { createOperationsPublisher, publishPeriodically } from '../telemetry/operations-publisher.ts';
import { runtimeOptions } from '../telemetry/runtime-telemetry.ts';
import { durationMs } from '../core/duration.ts';
import type { Duration } from '../core/spec.ts';

// The container's entry: connect, create, run, close. It refuses to start without a real
// Temporal and a real Gemini; the embedded defaults belong to the local programs (local/, cli/).

/** An expected failure: one line naming the fix, no stack trace, a non-zero exit. */
function refuse(message: string): never {
  console.error(message);
  process.exit(1);
}

const settings = settingsOrExit(() => loadWorkerSettings(process.env), 'Worker not started. ');
// The image's bundle, built and replay-checked at image build: no webpack at start.
const workflowBundle = settingsOrExit(() => prebuiltWorkflowBundle(settings.connection.WORKFLOW_BUNDLE_PATH), 'Worker not started. ');

// Metrics (Prometheus or OTLP) are the Runtime's: installed before anything connects. The
// CloudWatch counts (CLOUDWATCH_METRICS) hear model calls and Core's workflow task failures.
const counts = settings.telemetry.CLOUDWATCH_METRICS ? createWorkerCounts() : undefined;
const runtime = runtimeOptions(settings.telemetry, counts);
if (runtime) Runtime.install(runtime);
const tracing = createTracing({ serviceName: 'worker', ...(settings.telemetry.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: settings.telemetry.OTEL_EXPORTER_OTLP_ENDPOINT } : {}) });

// Connect: address, namespace, mTLS or API key as the Temporal CLI reads them. A refused
// certificate or an unreachable address is one line naming the setting to fix.
async function connectToTemporal() {
  const target = temporalTargetFrom(process.env);
  return { namespace: target.namespace, connection: await connectTo(target, (options) => NativeConnection.connect(options)) };
}
const { connection, namespace } = await connectToTemporal().catch((error: unknown) => {
  if (error instanceof TemporalConnectionError) refuse(`Worker not started. ${error.message}`);
  throw error;
});

// The namespace must know the search attributes every conversation and run sets; without them
// each start would be refused, and runs' workflow tasks would fail over and over.
const missing = await missingSearchAttributes(connection.operatorService, namespace);
if (missing === undefined) console.error(`Could not list the search attributes of namespace "${namespace}" (no permission?): not checked.`);
else if (missing.length > 0) refuse(`Worker not started. ${registerSearchAttributesHint(namespace, missing)}`);

// Schedules: the triggers' schedules made to match (one line; a failure does not stop the worker).
// The worker's own client (schedules, versions) reads and writes the same encrypted payloads.
const client = new Client({ connection, namespace, dataConverter: encryptedDataConverter(settings.connection.PAYLOAD_KEYS) });
const registry = registryFrom(settings.agents, client);
await syncSchedulesAtStart({ client, taskQueue: settings.agents.TEMPORAL_TASK_QUEUE, deployment: settings.agents.AGENTS_DEPLOYMENT, agents: registry.agents.values(), enabled: settings.agents.SCHEDULES_SYNC_AT_START, log: (line) => console.error(line) });

// Create. With a deployment version, the workers are versioned: runs stay on the build they started on.
const replyAdapters = replyAdaptersFrom(settings);
const deployment = deploymentVersionOf(settings.versioning);
const worker = await createWorkerFromSettings({
  connection,
  namespace,
  payloadKeys: settings.connection.PAYLOAD_KEYS,
  settings: settings.agents,
  registry,
  transcripts: settings.transcripts,
  gemini: { apiKey: settings.connection.GOOGLE_API_KEY, ...(settings.agents.GEMINI_BASE_URL ? { baseUrl: settings.agents.GEMINI_BASE_URL } : {}) },
  replyAdapters,
  answerStreams: slackAnswerStreamsFrom(settings.slack, settings.transcripts),
  ...(tracing ? { tracing } : {}),
  ...(counts ? { counts } : {}),
  ...(deployment ? { deployment } : {}),
  // Told to stop, it lets running calls finish: a deploy does not cancel a tool halfway.
  tuning: { shutdownGraceTime: durationMs(settings.connection.WORKER_SHUTDOWN_GRACE_TIME as Duration) },
  ...(workflowBundle ? { workflowBundle } : {}),
});

// Operations metrics on a timer: backlogs and counts as CloudWatch EMF lines on stdout, the
// approvals waiting on the Runtime's meter.
const metricsExported = runtime?.telemetryOptions?.metrics !== undefined;
const operations =
  counts || metricsExported
    ? publishPeriodically(
        createOperationsPublisher({
          client,
          namespace,
          taskQueue: settings.agents.TEMPORAL_TASK_QUEUE,
          agents: registry.agents.keys(),
          ...(metricsExported ? { meter: Runtime.instance().metricMeter } : {}),
          ...(counts ? { cloudWatch: { counts, write: (line: string) => process.stdout.write(`${line}\n`) } } : {}),
        }),
        durationMs(settings.telemetry.OPERATIONS_METRICS_INTERVAL as Duration),
        (line) => console.error(line),
      )
    : undefined;

// Run until SIGINT or SIGTERM; in-flight activities finish within WORKER_SHUTDOWN_GRACE_TIME.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
console.error(
  `Worker polling task queue "${settings.agents.TEMPORAL_TASK_QUEUE}" on ${settings.connection.TEMPORAL_ADDRESS} (namespace ${namespace}); ${deployment ? `version ${deployment.deploymentName}.${deployment.buildId}` : 'unversioned'}; replies: ${['none', ...Object.keys(replyAdapters)].join(', ')}.`,
);
const running = worker.run();
// A versioned worker may make its own version current once it polls (TEMPORAL_VERSION_PROMOTION).
if (deployment) {
  const promotion = settings.versioning.TEMPORAL_VERSION_PROMOTION;
  promoteVersion(client, deployment, promotion).then(
    (outcome) => console.error(`Version ${deployment.buildId}: ${outcome === 'left-to-the-commands' ? 'not made current (promotion ' + promotion + '); npm run deployment -- current makes it so' : outcome}.`),
    (error: unknown) => console.error(`Version ${deployment.buildId} could not be made current (${(error as Error).message.split('\n')[0]}); npm run deployment -- current ${deployment.buildId} does it by hand.`),
  );
}
try {
  await running;
} finally {
  // Close.
  await operations?.stop();
  await connection.close();
  await tracing?.shutdown();
}
