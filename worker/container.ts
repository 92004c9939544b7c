import { Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { NativeConnection, Runtime } from '@temporalio/worker';
import type { Environment } from '../config/load-settings.ts';
import { deploymentVersionOf, type WorkerSettings } from '../config/worker-settings.ts';
import { durationMs } from '../core/duration.ts';
import type { Duration } from '../core/spec.ts';
import { encryptedDataConverter } from '../temporal-client/payload-encryption.ts';
import { missingSearchAttributes, registerSearchAttributesHint } from '../temporal-client/search-attribute-check.ts';
import { connectTo, temporalTargetFrom, TemporalConnectionError } from '../temporal-client/temporal-connection.ts';
import { promoteVersion } from '../temporal-client/worker-deployment.ts';
import { createOperationsPublisher, publishPeriodically } from '../telemetry/operations-publisher.ts';
import { composeWorker, type ComposedWorker, type WorkerTelemetry } from './compose.ts';

/**
 * The container's worker: a real Temporal (address, namespace, mTLS or API key as the Temporal
 * CLI reads them) and a real Gemini, the worker composed by `composeWorker`, and the operations
 * metrics on a timer. worker/main.ts reads the settings and runs it.
 */

/** An expected refusal to start: its message is one line naming what to fix. */
export class ContainerRefused extends Error {}

export interface ContainerWorkerOptions {
  /** The entry's environment: the Temporal CLI's settings are read from it. */
  env: Environment;
  /** Traces, counts and the Runtime options, as installed before this start (`workerTelemetryFrom`). */
  telemetry: WorkerTelemetry;
  /** The image's bundle (`prebuiltWorkflowBundle`). @default workflows/ bundled at start */
  workflowBundle?: { codePath: string };
  /** Where its lines go. */
  log(line: string): void;
}

export interface ContainerWorker {
  worker: ComposedWorker;
  client: Client;
  namespace: string;
  deployment: WorkerDeploymentVersion | undefined;
  /** Runs until `worker.shutdown()`, promoting the version once it polls. */
  run(): Promise<void>;
  /** Stops the metrics timer and closes the connection and the tracing. */
  close(): Promise<void>;
}

/** Connects, checks the namespace, composes the worker; throws `ContainerRefused` with one line when it cannot. */
export async function startContainerWorker(settings: WorkerSettings, options: ContainerWorkerOptions): Promise<ContainerWorker> {
  const { connection, namespace } = await connectToTemporal(options.env);
  try {
    await checkSearchAttributes(connection, namespace, options.log);
    // The worker's own client (schedules, versions) reads and writes the same encrypted payloads.
    const client = new Client({ connection, namespace, dataConverter: encryptedDataConverter(settings.connection.PAYLOAD_KEYS) });
    // With a deployment version, the workers are versioned: runs stay on the build they started on.
    const deployment = deploymentVersionOf(settings.versioning);
    const worker = await composeWorker(settings, {
      connection,
      namespace,
      client,
      payloadKeys: settings.connection.PAYLOAD_KEYS,
      gemini: {
        apiKey: settings.connection.GOOGLE_API_KEY,
        ...(settings.agents.GEMINI_BASE_URL ? { baseUrl: settings.agents.GEMINI_BASE_URL } : {}),
      },
      telemetry: options.telemetry,
      ...(deployment ? { deployment } : {}),
      // Told to stop, it lets running calls finish: a deploy does not cancel a tool halfway.
      tuning: { shutdownGraceTime: durationMs(settings.connection.WORKER_SHUTDOWN_GRACE_TIME as Duration) },
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
      log: options.log,
    });
    const operations = publishOperations(settings, { client, namespace, worker, telemetry: options.telemetry, log: options.log });
    options.log(
      `Worker polling task queue "${settings.agents.TEMPORAL_TASK_QUEUE}" on ${settings.connection.TEMPORAL_ADDRESS} (namespace ${namespace}); ${deployment ? `version ${deployment.deploymentName}.${deployment.buildId}` : 'unversioned'}; replies: ${worker.replyChannels.join(', ')}.`,
    );
    return {
      worker,
      client,
      namespace,
      deployment,
      run: () => {
        const running = worker.run();
        if (deployment) promote(client, deployment, settings.versioning.TEMPORAL_VERSION_PROMOTION, options.log);
        return running;
      },
      close: async () => {
        await operations?.stop();
        await connection.close();
        await options.telemetry.tracing?.shutdown();
      },
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/** A refused certificate or an unreachable address is one line naming the setting to fix. */
async function connectToTemporal(env: Environment): Promise<{ connection: NativeConnection; namespace: string }> {
  const target = temporalTargetFrom(env);
  try {
    return {
      namespace: target.namespace,
      connection: await connectTo(target, (connectionOptions) => NativeConnection.connect(connectionOptions)),
    };
  } catch (error) {
    if (error instanceof TemporalConnectionError) throw new ContainerRefused(error.message);
    throw error;
  }
}

/**
 * The namespace must know the search attributes every conversation and run sets; without them
 * each start would be refused, and runs' workflow tasks would fail over and over.
 */
async function checkSearchAttributes(connection: NativeConnection, namespace: string, log: (line: string) => void): Promise<void> {
  const missing = await missingSearchAttributes(connection.operatorService, namespace);
  if (missing === undefined) log(`Could not list the search attributes of namespace "${namespace}" (no permission?): not checked.`);
  else if (missing.length > 0) throw new ContainerRefused(registerSearchAttributesHint(namespace, missing));
}

/**
 * Operations metrics on a timer: backlogs and counts as CloudWatch EMF lines on stdout, the
 * approvals waiting on the Runtime's meter. Nothing when neither is exported.
 */
function publishOperations(
  settings: WorkerSettings,
  context: { client: Client; namespace: string; worker: ComposedWorker; telemetry: WorkerTelemetry; log(line: string): void },
): { stop(): Promise<void> } | undefined {
  const { counts, runtime } = context.telemetry;
  const metricsExported = runtime?.telemetryOptions?.metrics !== undefined;
  if (!counts && !metricsExported) return undefined;
  const publisher = createOperationsPublisher({
    client: context.client,
    namespace: context.namespace,
    taskQueue: settings.agents.TEMPORAL_TASK_QUEUE,
    agents: context.worker.registry.agents.keys(),
    ...(metricsExported ? { meter: Runtime.instance().metricMeter } : {}),
    ...(counts ? { cloudWatch: { counts, write: (line: string) => process.stdout.write(`${line}\n`) } } : {}),
  });
  return publishPeriodically(publisher, durationMs(settings.telemetry.OPERATIONS_METRICS_INTERVAL as Duration), context.log);
}

/** A versioned worker may make its own version current once it polls (TEMPORAL_VERSION_PROMOTION). */
function promote(
  client: Client,
  deployment: WorkerDeploymentVersion,
  promotion: 'first' | 'always' | 'never',
  log: (line: string) => void,
): void {
  promoteVersion(client, deployment, promotion).then(
    (outcome) =>
      log(
        `Version ${deployment.buildId}: ${outcome === 'left-to-the-commands' ? 'not made current (promotion ' + promotion + '); npm run deployment -- current makes it so' : outcome}.`,
      ),
    (error: unknown) =>
      log(
        `Version ${deployment.buildId} could not be made current (${(error as Error).message.split('\n')[0]}); npm run deployment -- current ${deployment.buildId} does it by hand.`,
      ),
  );
}
