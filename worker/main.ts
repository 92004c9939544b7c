import { Runtime } from '@temporalio/worker';
import { settingsOrExit } from '../config/load-settings.ts';
import { loadWorkerSettings } from '../config/worker-settings.ts';
import { workerTelemetryFrom } from './compose.ts';
import { ContainerRefused, startContainerWorker } from './container.ts';
import { prebuiltWorkflowBundle } from './prebuilt-bundle.ts';

// The container's entry: connect, create, run, close. It refuses to start without a real
// Temporal and a real Gemini; the embedded defaults belong to the local programs (local/, cli/).

const settings = settingsOrExit(() => loadWorkerSettings(process.env), 'Worker not started. ');
// The image's bundle, built and replay-checked at image build: no webpack at start.
const workflowBundle = settingsOrExit(() => prebuiltWorkflowBundle(settings.connection.WORKFLOW_BUNDLE_PATH), 'Worker not started. ');

// Metrics (Prometheus or OTLP) are the Runtime's: installed before anything connects. The
// CloudWatch counts (CLOUDWATCH_METRICS) hear model calls and Core's workflow task failures.
const telemetry = workerTelemetryFrom(settings.telemetry);
if (telemetry.runtime) Runtime.install(telemetry.runtime);

// Connect and create; an expected refusal (an unreachable address, a refused certificate, a
// namespace without the search attributes) is one line naming the fix, no stack trace.
const log = (line: string) => console.error(line);
const container = await startContainerWorker(settings, {
  env: process.env,
  telemetry,
  ...(workflowBundle ? { workflowBundle } : {}),
  log,
}).catch((error: unknown) => {
  if (!(error instanceof ContainerRefused)) throw error;
  console.error(`Worker not started. ${error.message}`);
  process.exit(1);
});

// Run until SIGINT or SIGTERM; in-flight activities finish within WORKER_SHUTDOWN_GRACE_TIME.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => container.worker.shutdown());
try {
  await container.run();
} finally {
  // Close.
  await container.close();
}
