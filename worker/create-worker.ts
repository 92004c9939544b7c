import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import type { DataConverter, WorkerDeploymentVersion } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { mcpServersOf, toolsOf, type AgentDefinition } from '../authoring/define-agent.ts';
import type { ToolDefinition } from '../authoring/define-tool.ts';
import { agentMetricsInterceptor, measuredModel } from '../telemetry/agent-metrics.ts';
import type { WorkerCounts } from '../telemetry/cloudwatch-metrics.ts';
import { createAgentActivities } from './activities/agents.ts';
import { modelWarningsAtStart } from './model-warnings.ts';
import { createAmbientActivities } from './activities/ambient.ts';
import { createAmbientMemoryStore, type AmbientMemoryStore } from '../store/ambient-memory.ts';
import { createConversationActivities, type ConversationDefaults } from './activities/conversations.ts';
import { createMcpActivities, type WorkerMcpServer } from './activities/mcp.ts';
import type { ModelActivities } from '../core/contracts/model.ts';
import type { ToolActivities } from '../core/contracts/tools.ts';
import { createModelActivities, type ModelActivityDeps } from './activities/model.ts';
import { fuseReadOnlyTools } from './activities/read-only-tools.ts';
import { createReplyActivities } from './activities/replies.ts';
import { createApprovalActivities, createToolActivities } from './activities/tools.ts';
import { createTranscriptActivities } from './activities/transcript.ts';
import { createVersionActivities } from './activities/versions.ts';
import { createApprovalRecordActivities, createApprovalRecords, type ApprovalRecords } from '../store/approval-records.ts';
import { createConversationIndex, type ConversationIndex } from '../store/conversation-index.ts';
import { createMemoryRecordFiles } from '../store/record-files.ts';
import { createRateLimiter, modelCallsPerProcess, rateLimited } from './model-rate-limit.ts';
import { noneReplyAdapter } from './replies/none.ts';
import type { ReplyAdapters } from './replies/reply-channel.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import { tracingWorkerOptions } from '../telemetry/worker-tracing.ts';

/** Model calls a worker process runs at once by default (tune with `maxConcurrentWorkflowTaskExecutions`, `maxConcurrentLocalActivityExecutions`). */
export const OPEN_MODEL_CALLS = 200;

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Worker options a deployment may tune: concurrency, cache and pollers. */
export type Tuning = Partial<
  Pick<
    WorkerOptions,
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxConcurrentLocalActivityExecutions'
    | 'maxConcurrentWorkflowTaskExecutions'
    | 'maxCachedWorkflows'
    | 'maxConcurrentWorkflowTaskPolls'
    | 'maxConcurrentActivityTaskPolls'
    | 'nonStickyToStickyPollRatio'
    | 'workflowTaskPollerBehavior'
    | 'activityTaskPollerBehavior'
    | 'identity'
    | 'shutdownGraceTime'
  >
>;

export interface AgentWorkerOptions {
  connection: NativeConnection;
  /** How payloads are written and read (`encryptedDataConverter(keys)`); the clients that start runs must use the same. @default the SDK's: payloads in clear */
  dataConverter?: DataConverter;
  /** @default 'default' */
  namespace?: string;
  /** Task queue of workflows and tool activities. */
  taskQueue: string;
  /** Task queue of model calls. @default `${taskQueue}-model` */
  modelTaskQueue?: string;
  /**
   * Model calls started per second across the whole fleet, so it stays under the provider's
   * rate limit. Model calls run as local activities in the worker that runs their workflow,
   * where no task queue's limit can see them; so each process spaces its own calls at this
   * limit ÷ `maxWorkers`, and the fleet's sum cannot pass it. The model task queue (turns'
   * model calls) keeps this as its server-side limit too. Needs `maxWorkers`. @default unlimited
   */
  modelCallsPerSecond?: number;
  /**
   * The most worker processes the deployment can run at once (the ECS service's maximum task
   * count): each process's share of `modelCallsPerSecond` is that limit divided by this.
   * Required with `modelCallsPerSecond`.
   */
  maxWorkers?: number;
  /**
   * Model calls started per second by this process, enforced in the process, whichever way
   * the calls run (local activities, the model queue, the main queue): a fleet of at most N
   * processes stays under N × this. With `modelCallsPerSecond` the smaller share applies.
   * @default unlimited
   */
  modelCallsPerSecondPerWorker?: number;
  /** Tools besides those of `agents` (and their sub-agents); each becomes the activity `tool:<name>`. @default [] */
  tools?: Iterable<ToolDefinition>;
  /**
   * Replaces the tool activities made from `tools`, given them: an eval answers calls from a
   * recording and runs only read-only tools for real. @default the tools' own activities
   */
  toolActivities?: (own: ToolActivities) => ToolActivities;
  /** Agents conversations may name; `resolveAgent` compiles them, and their tools are registered. @default [] */
  agents?: Iterable<AgentDefinition>;
  /** Reply adapters by channel kind; `none` is always there. @default { none } */
  replyAdapters?: ReplyAdapters;
  /**
   * Where a conversation finds its transcript after an idle close. @default in memory: enough
   * for one process; give `createConversationIndex(transcriptSettings)` anywhere else.
   */
  conversationIndex?: ConversationIndex;
  /**
   * What each trigger of an ambient agent remembers between runs. @default in memory: enough
   * for one process; give `createAmbientMemoryStore(transcriptSettings)` anywhere else.
   */
  ambientMemory?: AmbientMemoryStore;
  /**
   * MCP servers specs may name, besides those the `agents` define: what each name starts or
   * calls. A spec naming any other server fails (`UnknownMcpServer`). @default {}
   */
  mcpServers?: Record<string, WorkerMcpServer>;
  /**
   * Granted approvals, recorded when a person approves and checked by every tool that needs
   * approval before it runs. @default in memory: enough for one process; give
   * `createApprovalRecords(transcriptSettings)` anywhere else.
   */
  approvalRecords?: ApprovalRecords;
  /** Domain of the agents' own email addresses, for email triggers (`EMAIL_AGENT_DOMAIN`). @default none */
  agentEmailDomain?: string;
  /** Idle and approval timeouts of conversations that set none. @default { idleTimeout: '24 hours', approvalTimeout: '1 hour' } */
  conversationDefaults?: ConversationDefaults;
  model: ModelActivityDeps;
  /** A prebuilt bundle (tests build one per run); by default the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra workflow modules (benchmarks add their baseline loop); ignored with `workflowBundle`. */
  workflowsPath?: string;
  tuning?: Tuning;
  /** Tuning of the model worker. @default tuning */
  modelTuning?: Tuning;
  /** Spans of workflows and activities (`createTracing`). @default none: nothing traced */
  tracing?: Tracing;
  /** Counts of model call attempts for the CloudWatch publisher (`createWorkerCounts`). @default none */
  counts?: WorkerCounts;
  /**
   * The Worker Deployment Version both workers poll as (worker versioning): a run is pinned to
   * the version it started on, and new runs go to the deployment's current version.
   * @default none: unversioned workers, any worker takes any task
   */
  deployment?: WorkerDeploymentVersion;
  /** Where the start's warnings go (a model near its shutdown, or not in the table). @default console.warn */
  warn?: (line: string) => void;
}

/** The two Temporal workers of a process, run and stopped together. */
export interface AgentWorker {
  run(): Promise<void>;
  shutdown(): void;
  /** What each Temporal worker was created with, read back from the SDK's compiled options. */
  describe(): TemporalWorkerDescription[];
}

/** One Temporal worker as the SDK holds it: what it polls, runs and intercepts with. */
export interface TemporalWorkerDescription {
  taskQueue: string;
  /** Activity names, sorted. */
  activities: string[];
  /** Names of the activity interceptor factories, in order (the SDK's own included). */
  activityInterceptors: string[];
  /** Workflow interceptor modules bundled with `workflows/` (none with a prebuilt bundle: it holds them). */
  workflowInterceptorModules: string[];
  /** Workflows kept in memory between their tasks (the sticky cache); 0: none. */
  maxCachedWorkflows: number;
  /** Workflow tasks run at once (slots); undefined when a resource-based tuner sizes them. */
  workflowTaskSlots: number | undefined;
}

function describeWorker(worker: Worker): TemporalWorkerDescription {
  const { options } = worker;
  return {
    taskQueue: options.taskQueue,
    activities: [...options.activities.keys()].sort(),
    activityInterceptors: options.interceptors.activity.map((factory) => factory.name || 'anonymous'),
    workflowInterceptorModules: [...options.interceptors.workflowModules],
    maxCachedWorkflows: options.maxCachedWorkflows,
    workflowTaskSlots: slotsOf(options.tuner.workflowTaskSlotSupplier),
  };
}

function slotsOf(supplier: unknown): number | undefined {
  const fixed = supplier as { type?: string; numSlots?: number };
  return fixed.type === 'fixed-size' ? fixed.numSlots : undefined;
}

/**
 * Workflow task slots of the main worker. A workflow task holds its workflow in the sticky cache,
 * and Temporal's rule is no more slots than cached workflows (unless the cache is off): a bounded
 * cache below OPEN_MODEL_CALLS lowers the model calls that run at once to its size.
 */
export function workflowTaskSlotsFor(maxCachedWorkflows: number | undefined): number {
  return maxCachedWorkflows ? Math.min(OPEN_MODEL_CALLS, maxCachedWorkflows) : OPEN_MODEL_CALLS;
}

/**
 * Creates the workers of one process: one runs the workflows (conversations, agent runs, ambient
 * runs) and every other activity (transcript, tools, approvals, MCP, replies, the conversation
 * index, ambient memory, checks and delivery);
 * the other runs the model calls of conversations' turns (which report progress, and may stream
 * their answer) on their own task queue. Every other model call is a local activity of the first.
 */
export async function createAgentWorker(options: AgentWorkerOptions): Promise<AgentWorker> {
  const namespace = options.namespace ?? 'default';
  const agents = [...(options.agents ?? [])];
  for (const line of modelWarningsAtStart(agents)) (options.warn ?? console.warn)(line);
  const approvalRecords = options.approvalRecords ?? createApprovalRecords(createMemoryRecordFiles());
  const { close: closeMcp, ...mcpActivities } = createMcpActivities({
    store: options.model.store,
    servers: mcpServersFor(agents, options.mcpServers),
    approvals: approvalRecords,
  });
  const modelTaskQueue = options.modelTaskQueue ?? `${options.taskQueue}-model`;
  // Model calls on the main queue: one worker, and eager dispatch for the model call too.
  const modelOnMain = modelTaskQueue === options.taskQueue;
  const tools = [...(options.tools ?? []), ...toolsOf(agents)];
  const ownTools = createToolActivities(tools, options.model.store, approvalRecords);
  const toolActivities = options.toolActivities ? options.toolActivities(ownTools) : ownTools;
  const modelActivities = modelActivitiesFor(options, toolActivities);
  const traced = tracingWorkerOptions(options.tracing);
  const versioning = deploymentOptions(options.deployment);
  const activityInterceptors = [...(traced.interceptors.activity ?? []), agentMetricsInterceptor];
  const main = await Worker.create({
    connection: options.connection,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    interceptors: { ...traced.interceptors, activity: activityInterceptors },
    sinks: traced.sinks,
    namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: options.workflowsPath ?? WORKFLOWS_PATH }),
    activities: { ...mainActivities(options, { agents, tools, approvalRecords, modelActivities, toolActivities }), ...mcpActivities },
    // Cancellation reaches a running activity with its next heartbeat sent to the server.
    maxHeartbeatThrottleInterval: '5 seconds',
    ...versioning,
    // A model call runs inside its workflow task, which stays open until the call returns: each
    // open call holds a workflow task slot and a local activity slot (the SDK's defaults, 40 and
    // 100, would let only 40 model calls run at once in a process).
    maxConcurrentWorkflowTaskExecutions: workflowTaskSlotsFor(options.tuning?.maxCachedWorkflows),
    maxConcurrentLocalActivityExecutions: OPEN_MODEL_CALLS,
    ...options.tuning,
  });
  const workers = [main];
  if (!modelOnMain) {
    workers.push(
      await Worker.create({
        connection: options.connection,
        ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
        namespace,
        taskQueue: modelTaskQueue,
        activities: modelActivities,
        interceptors: { activity: activityInterceptors },
        maxHeartbeatThrottleInterval: '5 seconds',
        ...(options.modelCallsPerSecond ? { maxTaskQueueActivitiesPerSecond: options.modelCallsPerSecond } : {}),
        // The model queue belongs to the same version: a pinned run's model calls reach its own build.
        ...versioning,
        ...(options.modelTuning ?? options.tuning),
      }),
    );
  }
  return {
    run: async () => {
      try {
        await Promise.all(workers.map((worker) => worker.run()));
      } finally {
        await closeMcp();
      }
    },
    shutdown: () => {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
    describe: () => workers.map(describeWorker),
  };
}

/** The agents' own MCP servers and the extra ones; a name defined twice is refused. */
function mcpServersFor(agents: AgentDefinition[], extra: Record<string, WorkerMcpServer> = {}): Record<string, WorkerMcpServer> {
  const servers: Record<string, WorkerMcpServer> = { ...mcpServersOf(agents) };
  for (const [name, server] of Object.entries(extra)) {
    if (servers[name]) throw new Error(`MCP server "${name}" is both in mcpServers and defined by an agent; give it one definition.`);
    servers[name] = server;
  }
  return servers;
}

/**
 * The model call, measured (tokens, cost, counts) and spaced by this process's share of the
 * rate limit; a read-only step's tools run in the same call (`fuseReadOnlyTools`).
 */
function modelActivitiesFor(options: AgentWorkerOptions, tools: ToolActivities): ModelActivities {
  const counts = options.counts;
  const callModel = measuredModel(
    options.model.store,
    createModelActivities(options.model).callModel,
    () => Context.current().metricMeter,
    counts && ((outcome) => counts.modelCall(outcome)),
  );
  const perWorker = modelCallsPerProcess(options);
  // One limiter for every model call of this process, local activities and the model queue's alike.
  return { callModel: fuseReadOnlyTools(perWorker ? rateLimited(createRateLimiter(perWorker), callModel) : callModel, tools) };
}

/** Every activity of the main worker but MCP's: transcript, model, tools, approvals, agents, replies, conversations, versions, ambient runs. */
function mainActivities(
  options: AgentWorkerOptions,
  parts: {
    agents: AgentDefinition[];
    tools: ToolDefinition[];
    approvalRecords: ApprovalRecords;
    modelActivities: ModelActivities;
    toolActivities: ToolActivities;
  },
): object {
  const { store } = options.model;
  const { agents, tools, approvalRecords } = parts;
  const replyAdapters: ReplyAdapters = { none: noneReplyAdapter, ...options.replyAdapters };
  return {
    ...createTranscriptActivities(store),
    // Model calls run here as local activities of the runs this worker holds (and as activities when on this queue).
    ...parts.modelActivities,
    ...parts.toolActivities,
    ...createApprovalRecordActivities(approvalRecords),
    ...createApprovalActivities(tools, store),
    ...createAgentActivities(agents),
    ...createReplyActivities(replyAdapters, { loadArguments: (ref) => store.get(ref) }),
    ...createConversationActivities(
      options.conversationIndex ?? createConversationIndex(createMemoryRecordFiles()),
      options.conversationDefaults,
    ),
    // Versioned conversations only call it, with the worker's own client.
    ...createVersionActivities(),
    ...createAmbientActivities({
      agents,
      memory: options.ambientMemory ?? createAmbientMemoryStore(createMemoryRecordFiles()),
      replyAdapters,
      store,
      ...(options.agentEmailDomain ? { emailDomain: options.agentEmailDomain } : {}),
    }),
  };
}

/**
 * `workerDeploymentOptions` for a version; nothing for an unversioned worker. Every workflow
 * here is PINNED: an agent run (a turn, a sub-agent, an ambient run's child) and an ambient
 * run finish on the build they started on, and a conversation's run does too, its next run
 * (after continue-as-new) starting on the deployment's target version. The worker states it
 * once, as its default: the server refuses a behaviour from an unversioned worker, so a
 * workflow annotated with `setWorkflowOptions({ versioningBehavior })` would stall on one.
 */
function deploymentOptions(version: WorkerDeploymentVersion | undefined): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  if (!version) return {};
  return { workerDeploymentOptions: { useWorkerVersioning: true, version, defaultVersioningBehavior: 'PINNED' } };
}
