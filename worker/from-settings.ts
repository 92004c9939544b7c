import type { Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { AnswerStreams } from './replies/answer-stream.ts';
import type { NativeConnection } from '@temporalio/worker';
import { encryptedWorkerDataConverter, type PayloadKeySet } from '../temporal-client/payload-encryption.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import { createAgentRegistry, type AgentRegistry } from '../agents/index.ts';
import type { Duration } from '../core/spec.ts';
import { createTranscriptStore, type TranscriptStoreSettings } from '../store/create-store.ts';
import { createAmbientMemoryStore } from '../store/ambient-memory.ts';
import { createBudgetLedger } from '../store/budget-ledger.ts';
import type { WorkerCounts } from '../telemetry/cloudwatch-metrics.ts';
import { createApprovalRecords } from '../store/approval-records.ts';
import { createConversationIndex } from '../store/conversation-index.ts';
import { createAgentWorker, type AgentWorker, type Tuning } from './create-worker.ts';
import type { ReplyAdapters } from './replies/reply-channel.ts';
import type { AgentWorkerSettings } from '../config/worker-settings.ts';

/**
 * The agents, with the tool endpoints and model override the settings name. With the
 * worker's Temporal client, the assistant gets the schedule tools (schedules from chat).
 */
export function registryFrom(settings: AgentWorkerSettings, client?: Client): AgentRegistry {
  return createAgentRegistry({
    ...(client ? { schedules: { client, taskQueue: settings.TEMPORAL_TASK_QUEUE, ...(settings.AGENTS_DEPLOYMENT ? { deployment: settings.AGENTS_DEPLOYMENT } : {}) } } : {}),
    ...(settings.DOCS_DIR ? { docsDirectory: settings.DOCS_DIR } : {}),
    ...(settings.NWS_BASE_URL ? { weatherBaseUrl: settings.NWS_BASE_URL } : {}),
    ...(settings.IP_API_BASE_URL ? { ipLocationBaseUrl: settings.IP_API_BASE_URL } : {}),
    ...(settings.GEMINI_MODEL ? { model: settings.GEMINI_MODEL } : {}),
  });
}

export interface WorkerFromSettingsOptions {
  connection: NativeConnection;
  namespace: string;
  /** The keys every payload is sealed and opened with (the first seals); the clients use the same. */
  payloadKeys: PayloadKeySet;
  settings: AgentWorkerSettings;
  registry: AgentRegistry;
  /** Where transcripts live; the conversation index sits next to them. */
  transcripts: TranscriptStoreSettings;
  /** The Gemini API key, and a base URL other than Google's (a local Gemini-compatible server). */
  gemini: { apiKey: string; baseUrl?: string };
  replyAdapters: ReplyAdapters;
  /** Where answers are streamed as the model writes them (`slackAnswerStreamsFrom`). @default none: answers are posted whole */
  answerStreams?: AnswerStreams;
  /** Spans of workflows and activities (`createTracing`). @default none */
  tracing?: Tracing;
  /** Counts of model call attempts for the CloudWatch publisher. @default none */
  counts?: WorkerCounts;
  /** The Worker Deployment Version the workers poll as (`deploymentVersionOf(settings.versioning)`). @default none: unversioned */
  deployment?: WorkerDeploymentVersion;
  /** Worker options (the container's shutdown grace time). @default the SDK's */
  tuning?: Tuning;
  /** A bundle built ahead (`prebuiltWorkflowBundle`). @default none: workflows/ is bundled at start */
  workflowBundle?: { codePath: string };
}

/** The agent worker the settings describe: the one wiring the container and the local programs share. */
export function createWorkerFromSettings(options: WorkerFromSettingsOptions): Promise<AgentWorker> {
  const { settings, registry } = options;
  return createAgentWorker({
    connection: options.connection,
    namespace: options.namespace,
    dataConverter: encryptedWorkerDataConverter(options.payloadKeys),
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    tools: registry.tools,
    agents: registry.agents.values(),
    replyAdapters: options.replyAdapters,
    conversationIndex: createConversationIndex(options.transcripts),
    ambientMemory: createAmbientMemoryStore(options.transcripts),
    approvalRecords: createApprovalRecords(options.transcripts),
    ...(settings.EMAIL_AGENT_DOMAIN ? { agentEmailDomain: settings.EMAIL_AGENT_DOMAIN } : {}),
    // Both are checked against the duration format by the settings schema.
    conversationDefaults: { idleTimeout: settings.CONVERSATION_IDLE_TIMEOUT as Duration, approvalTimeout: settings.APPROVAL_TIMEOUT as Duration },
    model: {
      apiKey: options.gemini.apiKey,
      store: createTranscriptStore(options.transcripts),
      // Daily spending counters sit next to the transcripts, shared by every worker of the deployment.
      budgets: createBudgetLedger(options.transcripts),
      ...(options.gemini.baseUrl ? { baseUrl: options.gemini.baseUrl } : {}),
      ...(options.answerStreams ? { answerStreams: options.answerStreams } : {}),
    },
    ...(settings.MODEL_CALLS_PER_SECOND ? { modelCallsPerSecond: settings.MODEL_CALLS_PER_SECOND } : {}),
    ...(settings.WORKER_MAX_COUNT ? { maxWorkers: settings.WORKER_MAX_COUNT } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
    ...(options.counts ? { counts: options.counts } : {}),
    ...(options.deployment ? { deployment: options.deployment } : {}),
    ...(options.tuning ? { tuning: options.tuning } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
  });
}
