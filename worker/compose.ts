import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { NativeConnection, RuntimeOptions } from '@temporalio/worker';
import { createAgentRegistry, type AgentRegistry } from '../agents/index.ts';
import type { EmailReplySettings, AgentWorkerSettings, SlackReplySettings, TelemetrySettings } from '../config/worker-settings.ts';
import type { Duration } from '../core/spec.ts';
import { createAmbientMemoryStore } from '../store/ambient-memory.ts';
import { createApprovalRecords } from '../store/approval-records.ts';
import { createBudgetLedger } from '../store/budget-ledger.ts';
import { createConversationIndex } from '../store/conversation-index.ts';
import { createTranscriptStore } from '../store/create-store.ts';
import { type TranscriptStoreSettings } from '../config/transcript-store-settings.ts';
import { recordFilesFor } from '../store/record-files.ts';
import type { SyncSummary } from '../temporal-client/schedules.ts';
import { encryptedWorkerDataConverter, type PayloadKeySet } from '../temporal-client/payload-encryption.ts';
import { createWorkerCounts, type WorkerCounts } from '../telemetry/cloudwatch-metrics.ts';
import { runtimeOptions } from '../telemetry/runtime-telemetry.ts';
import { createTracing, type Tracing } from '../telemetry/tracing.ts';
import { createAgentWorker, type AgentWorker, type Tuning } from './create-worker.ts';
import { emailReplyAdapterFrom, slackAnswerStreamsFrom, slackReplyAdapterFrom } from './replies/adapters.ts';
import type { ReplyAdapters } from './replies/reply-channel.ts';
import { syncSchedulesAtStart } from './sync-at-start.ts';

/**
 * The one composition of the worker: the agents, their schedules, the record stores, the reply
 * adapters, the model, and the Temporal workers with their interceptors. The container
 * (worker/main.ts), `npm start` (local/start-stack.ts) and the terminal programs' embedded worker
 * (local/runtime.ts) all build their worker here; what differs between them (a stand-in's URL,
 * the offline model, terminal replies) is a setting or a dependency, never a second wiring.
 */

/** The setting groups the composition reads: the same in the container and the local programs. */
export interface CompositionSettings {
  agents: AgentWorkerSettings;
  /** Where transcripts live; the conversation index, approvals, ambient memory, budgets and reply records sit next to them. */
  transcripts: TranscriptStoreSettings;
  /** Slack replies and streamed answers (`SLACK_API_URL`: the local stand-in). Off without `SLACK_BOT_TOKEN`. */
  slack: SlackReplySettings;
  /** Email replies. Off without `EMAIL_REPLY_TOKEN_SECRET`. */
  email: EmailReplySettings;
}

export interface CompositionDeps {
  connection: NativeConnection;
  namespace: string;
  /** The worker's own client: the assistant's schedule tools, and the schedules synced at start. */
  client: Client;
  /** The keys every payload is sealed and opened with (the first seals); the clients use the same. */
  payloadKeys: PayloadKeySet;
  /** The Gemini API key, and a base URL other than Google's (the offline model's local server). */
  gemini: { apiKey: string; baseUrl?: string };
  /** Reply adapters besides those the settings turn on (the terminal's, in the local programs). @default none */
  replyAdapters?: ReplyAdapters;
  /** How email replies reach SES (the local stand-in). @default an SESv2Client from the environment */
  ses?: SESv2Client;
  /** Spans and counts (`workerTelemetryFrom`). @default none: nothing traced, nothing counted */
  telemetry?: WorkerTelemetry;
  /** The Worker Deployment Version the workers poll as (`deploymentVersionOf(settings.versioning)`). @default none: unversioned */
  deployment?: WorkerDeploymentVersion;
  /** Worker options (the container's shutdown grace time). @default the SDK's */
  tuning?: Tuning;
  /** A bundle built ahead (`prebuiltWorkflowBundle`). @default none: workflows/ is bundled at start */
  workflowBundle?: { codePath: string };
  /** Receives the line saying what the schedule sync at start did, or why it did nothing. */
  log(line: string): void;
}

/** The worker as composed, with what it was composed of. */
export interface ComposedWorker extends AgentWorker {
  registry: AgentRegistry;
  /** The channels it replies on, `none` first. */
  replyChannels: string[];
  /** What the schedule sync at start changed; undefined when it was off or failed (its line says which). */
  schedules: SyncSummary | undefined;
}

/** The worker's traces and counts, and the Runtime options that export its metrics. */
export interface WorkerTelemetry {
  tracing?: Tracing;
  counts?: WorkerCounts;
  /** For `Runtime.install`, before anything connects; undefined: the Runtime's defaults. */
  runtime?: RuntimeOptions;
}

/** Every worker this process composed: how a test tells the composition's worker from one built by hand. */
const composed = new WeakSet<AgentWorker>();

/** True when `worker` came out of `composeWorker`. */
export function isComposedWorker(worker: AgentWorker): boolean {
  return composed.has(worker);
}

/**
 * The agents, with the tool endpoints and model override the settings name. With the
 * worker's Temporal client, the assistant gets the schedule tools (schedules from chat).
 */
export function registryFrom(settings: AgentWorkerSettings, client?: Client): AgentRegistry {
  return createAgentRegistry({
    ...(client
      ? {
          schedules: {
            client,
            taskQueue: settings.TEMPORAL_TASK_QUEUE,
            ...(settings.AGENTS_DEPLOYMENT ? { deployment: settings.AGENTS_DEPLOYMENT } : {}),
          },
        }
      : {}),
    ...(settings.DOCS_DIR ? { docsDirectory: settings.DOCS_DIR } : {}),
    ...(settings.NWS_BASE_URL ? { weatherBaseUrl: settings.NWS_BASE_URL } : {}),
    ...(settings.IP_API_BASE_URL ? { ipLocationBaseUrl: settings.IP_API_BASE_URL } : {}),
    ...(settings.GEMINI_MODEL ? { model: settings.GEMINI_MODEL } : {}),
  });
}

/**
 * Traces (`OTEL_EXPORTER_OTLP_ENDPOINT`), CloudWatch counts (`CLOUDWATCH_METRICS`) and the
 * Runtime's metrics exporter the settings turn on. The counts hear Core's workflow task
 * failures through the Runtime's logger, so the caller installs `runtime` before it connects.
 */
export function workerTelemetryFrom(settings: TelemetrySettings): WorkerTelemetry {
  const counts = settings.CLOUDWATCH_METRICS ? createWorkerCounts() : undefined;
  const runtime = runtimeOptions(settings, counts);
  const tracing = createTracing({
    serviceName: 'worker',
    ...(settings.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: settings.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
  });
  return { ...(counts ? { counts } : {}), ...(runtime ? { runtime } : {}), ...(tracing ? { tracing } : {}) };
}

/** Slack and email replies as the settings describe them, besides the given ones. */
export function replyAdaptersOf(settings: CompositionSettings, deps: Pick<CompositionDeps, 'replyAdapters' | 'ses'>): ReplyAdapters {
  const slack = slackReplyAdapterFrom(settings.slack, settings.transcripts);
  const email = emailReplyAdapterFrom(settings.email, deps.ses, settings.transcripts);
  return { ...deps.replyAdapters, ...(slack ? { slack } : {}), ...(email ? { email } : {}) };
}

/**
 * Composes the worker the settings describe: the schedules made to match the agents' triggers
 * (`SCHEDULES_SYNC_AT_START`), then the workers, not yet running (`run()` starts them).
 */
export async function composeWorker(settings: CompositionSettings, deps: CompositionDeps): Promise<ComposedWorker> {
  const { agents: agentSettings, transcripts } = settings;
  const registry = registryFrom(agentSettings, deps.client);
  const schedules = await syncSchedulesAtStart({
    client: deps.client,
    taskQueue: agentSettings.TEMPORAL_TASK_QUEUE,
    deployment: agentSettings.AGENTS_DEPLOYMENT,
    agents: registry.agents.values(),
    enabled: agentSettings.SCHEDULES_SYNC_AT_START,
    log: deps.log,
  });
  const replyAdapters = replyAdaptersOf(settings, deps);
  const answerStreams = slackAnswerStreamsFrom(settings.slack, transcripts);
  const { tracing, counts } = deps.telemetry ?? {};
  // The small records beside the transcripts: one backend (a folder or the bucket) for every record store.
  const records = recordFilesFor(transcripts);
  const worker = await createAgentWorker({
    connection: deps.connection,
    namespace: deps.namespace,
    dataConverter: encryptedWorkerDataConverter(deps.payloadKeys),
    taskQueue: agentSettings.TEMPORAL_TASK_QUEUE,
    tools: registry.tools,
    agents: registry.agents.values(),
    replyAdapters,
    conversationIndex: createConversationIndex(records),
    ambientMemory: createAmbientMemoryStore(records),
    approvalRecords: createApprovalRecords(records),
    ...(agentSettings.EMAIL_AGENT_DOMAIN ? { agentEmailDomain: agentSettings.EMAIL_AGENT_DOMAIN } : {}),
    // Both are checked against the duration format by the settings schema.
    conversationDefaults: {
      idleTimeout: agentSettings.CONVERSATION_IDLE_TIMEOUT as Duration,
      approvalTimeout: agentSettings.APPROVAL_TIMEOUT as Duration,
    },
    model: {
      apiKey: deps.gemini.apiKey,
      store: createTranscriptStore(transcripts),
      // Daily spending counters sit next to the transcripts, shared by every worker of the deployment.
      budgets: createBudgetLedger(records),
      ...(deps.gemini.baseUrl ? { baseUrl: deps.gemini.baseUrl } : {}),
      ...(answerStreams ? { answerStreams } : {}),
    },
    ...(agentSettings.MODEL_CALLS_PER_SECOND ? { modelCallsPerSecond: agentSettings.MODEL_CALLS_PER_SECOND } : {}),
    ...(agentSettings.WORKER_MAX_COUNT ? { maxWorkers: agentSettings.WORKER_MAX_COUNT } : {}),
    ...(tracing ? { tracing } : {}),
    ...(counts ? { counts } : {}),
    ...(deps.deployment ? { deployment: deps.deployment } : {}),
    ...tuningOf(agentSettings, deps.tuning),
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : {}),
  });
  const result: ComposedWorker = { ...worker, registry, replyChannels: ['none', ...Object.keys(replyAdapters)], schedules };
  composed.add(result);
  return result;
}

/** The caller's tuning with the sticky cache's bound (`WORKER_MAX_CACHED_WORKFLOWS`); nothing when neither is set. */
function tuningOf(settings: AgentWorkerSettings, tuning: Tuning | undefined): { tuning?: Tuning } {
  const cache = settings.WORKER_MAX_CACHED_WORKFLOWS;
  if (cache === undefined) return tuning ? { tuning } : {};
  return { tuning: { ...tuning, maxCachedWorkflows: cache } };
}
