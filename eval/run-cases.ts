import type { Client } from '@temporalio/client';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { compileAgent, mcpServersOf, toolsOf, type AgentDefinition } from '../authoring/define-agent.ts';
import { AGENT_RUN_WORKFLOW, PROGRESS_QUERY, type RunEvent } from '../core/run-events.ts';
import type { AgentSpec, TokenUsage } from '../core/spec.ts';
import { isMessageRef, type TranscriptStore } from '../store/transcript-store.ts';
import { createAgentWorker } from '../worker/create-worker.ts';
import { appendMessages } from '../store/transcript-chain.ts';
import type { AgentRunResult, agentRun } from '../workflows/agent-run.ts';
import type { EvalCase } from './case.ts';
import type { Judge } from './judge.ts';
import { costOf, scoreRun, type JudgeVerdict, type ObservedCall } from './score.ts';
import { caseWorkflowId, evalToolActivities, type AnsweredCall } from './tool-activities.ts';

/** What is evaluated: the agent as defined, or with another model or instructions. */
export interface EvalConfiguration {
  /** Names it in tables and results. */
  label: string;
  /** @default the agent's own */
  model?: string;
  /** Replaces the agent's instructions (its sub-agents keep theirs). @default the agent's own */
  instructions?: string;
  /** Where `instructions` came from, for the record. */
  promptFile?: string;
}

export interface LoadedCase {
  file: string;
  evalCase: EvalCase;
}

export interface CaseResult {
  id: string;
  file: string;
  pass: boolean;
  failures: string[];
  notes: string[];
  answer: string;
  stopReason: string;
  steps: number;
  usage: TokenUsage;
  /** US dollars; absent when the run reports none. */
  cost?: number;
  latencyMs: number;
  /** Every call the model made, in the run and its sub-agents. */
  calls: ObservedCall[];
  /** How each call that reached a tool activity was answered. */
  answered: AnsweredCall[];
  approvals: { tool: string; outcome: string }[];
  judge?: JudgeVerdict;
  workflowId: string;
  /** The run's transcript in the store, for the console. */
  transcriptHead?: string;
}

export interface EvalRun {
  version: 1;
  id: string;
  agent: string;
  configuration: EvalConfiguration & { model: string };
  startedAt: string;
  finishedAt: string;
  model: 'offline' | 'gemini';
  cases: CaseResult[];
  summary: EvalSummary;
}

export interface EvalSummary {
  passed: number;
  total: number;
  passRate: number;
  tokens: number;
  /** Sum over cases that report a cost; absent when none does. */
  cost?: number;
  latencyMs: { total: number; median: number; max: number };
}

export interface RunCasesOptions {
  client: Client;
  connection: NativeConnection;
  /** @default 'default' */
  namespace?: string;
  agent: AgentDefinition;
  cases: LoadedCase[];
  configuration: EvalConfiguration;
  store: TranscriptStore;
  /** Where model calls go: Gemini, or a Gemini-compatible server (the offline model). */
  gemini: { apiKey: string; baseUrl?: string };
  /** Says whether the model is the offline one, for the record. */
  modelKind: 'offline' | 'gemini';
  judge?: Judge;
  /** Cases run at once. @default 8 */
  concurrency?: number;
  /** A prebuilt workflow bundle (tests); by default the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Called as each case finishes. */
  onCase?(result: CaseResult, done: number, total: number): void;
}

/**
 * Runs every case through the production loop: the agent-run workflow, on a task queue of its
 * own, with a worker whose tool activities answer from the recordings (`evalToolActivities`).
 * Cases run `concurrency` at a time; each is scored as it ends.
 */
export async function runCases(options: RunCasesOptions): Promise<EvalRun> {
  const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${crypto.randomUUID().slice(0, 6)}`;
  const startedAt = new Date().toISOString();
  const taskQueue = `eval-${id}`;
  const byWorkflowId = new Map<string, EvalCase>();
  const answered = new Map<string, AnsweredCall[]>();
  for (const { evalCase } of options.cases) byWorkflowId.set(caseWorkflowId(id, evalCase.id), evalCase);
  const rootOf = (workflowId: string) => workflowId.split('/')[0]!;
  const book = {
    caseOf: (workflowId: string) => byWorkflowId.get(rootOf(workflowId)),
    answered: (workflowId: string, call: AnsweredCall) => {
      const root = rootOf(workflowId);
      answered.set(root, [...(answered.get(root) ?? []), call]);
    },
  };
  // MCP tools run through one activity of their own, which no recording answers yet: refuse rather than run them.
  if (Object.keys(mcpServersOf([options.agent])).length)
    throw new Error(`Agent "${options.agent.name}" uses MCP servers; evals do not cover MCP tools yet.`);
  const tools = toolsOf([options.agent]);
  const worker = await createAgentWorker({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue,
    // One worker: model calls of runs without a conversation run as its local activities anyway.
    modelTaskQueue: taskQueue,
    tools,
    agents: [options.agent],
    toolActivities: evalToolActivities(tools, options.store, book),
    model: { apiKey: options.gemini.apiKey, store: options.store, ...(options.gemini.baseUrl ? { baseUrl: options.gemini.baseUrl } : {}) },
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
  });
  const running = worker.run();
  const compiled = compileAgent(options.agent, options.configuration.model ? { model: options.configuration.model } : {});
  const spec: AgentSpec =
    options.configuration.instructions === undefined ? compiled : { ...compiled, instructions: options.configuration.instructions };
  const results: CaseResult[] = [];
  try {
    const queue = [...options.cases];
    const runOne = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const workflowId = caseWorkflowId(id, next.evalCase.id);
        const result = await runCase(options, spec, taskQueue, next, workflowId, () => answered.get(workflowId) ?? []);
        results.push(result);
        options.onCase?.(result, results.length, options.cases.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, Math.max(1, options.cases.length)) }, runOne));
  } finally {
    worker.shutdown();
    await running;
  }
  const order = new Map(options.cases.map(({ evalCase }, index) => [evalCase.id, index]));
  results.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return {
    version: 1,
    id,
    agent: options.agent.name,
    configuration: { ...options.configuration, model: spec.model },
    startedAt,
    finishedAt: new Date().toISOString(),
    model: options.modelKind,
    cases: results,
    summary: summarise(results),
  };
}

async function runCase(
  options: RunCasesOptions,
  spec: AgentSpec,
  taskQueue: string,
  { file, evalCase }: LoadedCase,
  workflowId: string,
  answeredCalls: () => AnsweredCall[],
): Promise<CaseResult> {
  const started = Date.now();
  const base = {
    id: evalCase.id,
    file,
    workflowId,
    usage: { promptTokens: 0, outputTokens: 0, totalTokens: 0 },
    calls: [],
    answered: [],
    approvals: [],
  };
  let result: AgentRunResult;
  try {
    // The context is stored once and passed by reference, as a conversation's turn is.
    const transcriptHead = evalCase.context.length ? await appendMessages(options.store, undefined, evalCase.context) : undefined;
    const handle = await options.client.workflow.start<typeof agentRun>(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [{ spec, prompt: evalCase.prompt, ...(transcriptHead ? { transcriptHead } : {}) }],
    });
    result = await handle.result();
  } catch (error) {
    const message = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    return {
      ...base,
      pass: false,
      failures: [`the run failed: ${message}`],
      notes: [],
      answer: '',
      stopReason: 'failed',
      steps: 0,
      latencyMs: Date.now() - started,
    };
  }
  const latencyMs = Date.now() - started;
  let events: { event: RunEvent; agent: string }[];
  try {
    events = await eventsOf(options.client, workflowId, spec.name);
  } catch (error) {
    return {
      ...base,
      pass: false,
      failures: [`the run's calls could not be read (its progress query failed: ${(error as Error).message.split('\n')[0]})`],
      notes: [],
      answer: result.answer,
      stopReason: result.stopReason,
      steps: result.steps,
      latencyMs,
    };
  }
  const calls: ObservedCall[] = [];
  for (const { event, agent } of events) {
    // Arguments too large for history travel by reference; matchers see them whole.
    if (event.kind === 'tool') calls.push({ tool: event.tool, args: await argsOf(options.store, event.args), agent });
  }
  const approvals = events.flatMap(({ event }) =>
    event.kind === 'approval' && (event.outcome === 'requested' || event.outcome === 'unavailable')
      ? [{ tool: event.tool, outcome: event.outcome }]
      : [],
  );
  const cost = costOf(result);
  let judge: JudgeVerdict | undefined;
  if (evalCase.expect.rubric && options.judge) {
    judge = await options
      .judge({ rubric: evalCase.expect.rubric, prompt: evalCase.prompt, answer: result.answer })
      .catch((error: unknown) => ({
        verdict: 'fail' as const,
        reason: `the judge could not be asked: ${(error as Error).message.split('\n')[0]}`,
      }));
  }
  const observed = {
    answer: result.answer,
    stopReason: result.stopReason,
    steps: result.steps,
    usage: result.usage,
    calls,
    approvals,
    ...(cost === undefined ? {} : { cost }),
    ...(judge ? { judge } : {}),
  };
  const score = scoreRun(evalCase, observed);
  return { ...base, ...observed, ...score, answered: answeredCalls(), latencyMs, transcriptHead: result.transcriptHead };
}

async function argsOf(store: TranscriptStore, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const keys = Object.keys(args);
  if (keys.length === 1 && keys[0] === 'argsRef' && isMessageRef(args.argsRef))
    return ((await store.get(args.argsRef)) ?? {}) as Record<string, unknown>;
  return args;
}

/** The run's progress events and its sub-agents', each with the agent whose run it is. */
async function eventsOf(client: Client, workflowId: string, agent: string, depth = 0): Promise<{ event: RunEvent; agent: string }[]> {
  const events = await client.workflow.getHandle(workflowId).query<RunEvent[], [number]>(PROGRESS_QUERY, 0);
  const all: { event: RunEvent; agent: string }[] = [];
  for (const event of events) {
    all.push({ event, agent });
    // Sub-agents nest at most a few levels (MAX_AGENT_DEPTH); the bound here only guards a loop.
    if (event.kind === 'sub_agent' && depth < 5) all.push(...(await eventsOf(client, event.runWorkflowId, event.agent, depth + 1)));
  }
  return all;
}

export function summarise(results: CaseResult[]): EvalSummary {
  const passed = results.filter((result) => result.pass).length;
  const costs = results.flatMap((result) => (result.cost === undefined ? [] : [result.cost]));
  const latencies = results.map((result) => result.latencyMs).sort((a, b) => a - b);
  return {
    passed,
    total: results.length,
    passRate: results.length ? passed / results.length : 0,
    tokens: results.reduce((sum, result) => sum + result.usage.totalTokens, 0),
    ...(costs.length ? { cost: costs.reduce((sum, cost) => sum + cost, 0) } : {}),
    latencyMs: {
      total: latencies.reduce((sum, value) => sum + value, 0),
      median: latencies[Math.floor(latencies.length / 2)] ?? 0,
      max: latencies.at(-1) ?? 0,
    },
  };
}
