import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { CONVERSATION_WORKFLOW } from '../core/conversation.ts';
import type { AgentDefinition } from '../authoring/define-agent.ts';
import { AGENT_RUN_WORKFLOW } from '../core/run-events.ts';
import type { AgentSpec, Content } from '../core/spec.ts';
import type { TranscriptStore } from '../store/transcript-store.ts';
import { loadAll } from '../store/transcript-chain.ts';
import type { AgentRunInput, AgentRunResult } from '../workflows/agent-run.ts';
import { parseCase, type EvalCase, type EvalCaseInput, type RecordedCall } from './case.ts';
import { redact } from './redact.ts';
import { costOf } from './score.ts';

/** An id that names nothing exportable: the message says which and why. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/** Turns of one conversation looked at, at most: a bound on the walk through `<id>/turn-<n>`. */
const MAX_TURNS = 10_000;

export interface ExportOptions {
  client: Client;
  store: TranscriptStore;
  /** The agents by name: an exported case names the side-effecting tools its run did not call. */
  agents: ReadonlyMap<string, AgentDefinition>;
  /** Values never to copy (the process's secrets); well-known credential shapes are removed anyway. */
  secrets?: readonly string[];
}

export interface Exported {
  cases: EvalCase[];
  /** Turns left out, and why (still running, failed, stopped). */
  skipped: string[];
}

/**
 * Cases from what ran: a conversation id exports each of its finished turns, a run id (a
 * turn's run `<conversation>/turn-<n>`, or a run of `npm run ask`) that run alone. What a case
 * holds comes from the run's input and result in Temporal and its transcript in the store.
 */
export async function exportRecorded(options: ExportOptions, ids: string[]): Promise<Exported> {
  const cases: EvalCase[] = [];
  const skipped: string[] = [];
  for (const id of ids) {
    const description = await options.client.workflow
      .getHandle(id)
      .describe()
      .catch((error: unknown) => {
        if (error instanceof WorkflowNotFoundError)
          throw new ExportError(`No workflow "${id}" in this namespace: give a conversation id or an agent run id.`);
        throw error;
      });
    const runIds = description.type === CONVERSATION_WORKFLOW ? await turnRunsOf(options.client, id) : [id];
    if (description.type !== CONVERSATION_WORKFLOW && description.type !== AGENT_RUN_WORKFLOW) {
      throw new ExportError(`"${id}" is a ${description.type} workflow; give a conversation id or an agent run id.`);
    }
    for (const runId of runIds) {
      const status = (await options.client.workflow.getHandle(runId).describe()).status.name;
      if (status !== 'COMPLETED') {
        skipped.push(`${runId}: ${status.toLowerCase()}, not answered`);
        continue;
      }
      cases.push(await exportRun(options, runId, description.type === CONVERSATION_WORKFLOW ? id : undefined));
    }
  }
  return { cases, skipped };
}

/**
 * A conversation's turn runs, by the ids the conversation gives them (`<conversation>/turn-<n>`)
 * rather than its `turns` query: a conversation closed after its idle timeout answers a query
 * only while a worker replays it, and an export needs none.
 */
async function turnRunsOf(client: Client, conversationId: string): Promise<string[]> {
  const runs: string[] = [];
  for (let turn = 1; turn <= MAX_TURNS; turn += 1) {
    const runId = `${conversationId}/turn-${turn}`;
    try {
      await client.workflow.getHandle(runId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) break;
      throw error;
    }
    runs.push(runId);
  }
  return runs;
}

async function exportRun(options: ExportOptions, runId: string, conversationId: string | undefined): Promise<EvalCase> {
  const { client, store } = options;
  const { input, children } = await startOf(client, runId);
  const result = (await client.workflow.getHandle(runId).result()) as AgentRunResult;
  const before = input.transcriptHead ? (await loadAll(store, input.transcriptHead)).length : 0;
  const all = await loadAll(store, result.transcriptHead);
  const promptIndex = before + (input.history?.length ?? 0);
  const context = all.slice(0, promptIndex);
  const turn = all.slice(promptIndex + 1);
  const subAgentTools = new Set(input.spec.tools.filter((tool) => tool.subAgent).map((tool) => tool.name));
  const parentCalls = callsOf(turn);
  const toolCalls = [...parentCalls.filter((call) => !subAgentTools.has(call.tool))];
  // A sub-agent runs again in the eval; its own calls are answered from its recorded run.
  for (const child of children) toolCalls.push(...(await subAgentCallsOf(client, store, child)));
  const agent = options.agents.get(input.spec.name);
  const called = new Set(parentCalls.map((call) => call.tool));
  const changing = (agent?.tools ?? [])
    .filter((tool) => !tool.readOnly && !called.has(tool.name) && !toolCalls.some((call) => call.tool === tool.name))
    .map((tool) => tool.name);
  const cost = costOf(result);
  const secrets = options.secrets ?? [];
  const draft: EvalCaseInput = {
    version: 1,
    id: caseIdOf(runId),
    agent: input.spec.name,
    description: `Exported from ${runId}.`,
    source: { ...(conversationId ? { conversationId } : {}), runWorkflowId: runId, exportedAt: new Date().toISOString() },
    context: redact(context, secrets) as unknown as EvalCaseInput['context'],
    prompt: redact(input.prompt, secrets),
    recorded: {
      toolCalls: redact(toolCalls, secrets),
      answer: redact(result.answer, secrets),
      steps: result.steps,
      usage: result.usage,
      ...(cost === undefined ? {} : { cost }),
    },
    liveTools: false,
    expect: {
      ...(called.size ? { toolsCalled: [...called] } : {}),
      ...(changing.length ? { toolsNotCalled: changing } : {}),
      // Room for a model that words its way differently, not for one that loops.
      maxSteps: Math.max(result.steps + 2, result.steps * 2),
    },
  };
  return parseCase(draft, `the case exported from ${runId}`);
}

/** The run's input (from its first event) and the agent runs it started as sub-agents. */
async function startOf(client: Client, runId: string): Promise<{ input: AgentRunInput; children: string[] }> {
  const history = await client.workflow.getHandle(runId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const input = await firstArgument<AgentRunInput>(client, started?.input?.payloads ?? []).catch((error: unknown) => {
    // An encrypted payload read without its key, or written by another converter.
    throw new ExportError(
      `The input of ${runId} cannot be read (${(error as Error).message.split('\n')[0]}): export with the payload keys and converter the run was written with.`,
    );
  });
  if (!input?.spec || typeof input.prompt !== 'string') throw new ExportError(`${runId} is not an agent run with a prompt.`);
  const children = (history.events ?? []).flatMap((event) => {
    const child = event.startChildWorkflowExecutionInitiatedEventAttributes;
    return child?.workflowType?.name === AGENT_RUN_WORKFLOW && child.workflowId ? [child.workflowId] : [];
  });
  return { input, children };
}

/** A workflow's first argument from its start event: through the client's codecs (last applied, first undone), then its payload converter. */
async function firstArgument<T>(client: Client, payloads: Payload[]): Promise<T | undefined> {
  const { payloadCodecs, payloadConverter } = client.workflow.options.loadedDataConverter;
  let decoded = payloads;
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return decoded[0] ? payloadConverter.fromPayload<T>(decoded[0]) : undefined;
}

async function subAgentCallsOf(client: Client, store: TranscriptStore, runId: string, depth = 1): Promise<RecordedCall[]> {
  const status = (await client.workflow.getHandle(runId).describe()).status.name;
  if (status !== 'COMPLETED') return [];
  const { input, children } = await startOf(client, runId);
  const result = (await client.workflow.getHandle(runId).result()) as AgentRunResult;
  const all = await loadAll(store, result.transcriptHead);
  const subAgentTools = new Set((input.spec as AgentSpec).tools.filter((tool) => tool.subAgent).map((tool) => tool.name));
  const calls = callsOf(all.slice((input.history?.length ?? 0) + 1)).filter((call) => !subAgentTools.has(call.tool));
  // Nesting is bounded by MAX_AGENT_DEPTH in the workflow; this bound only guards a loop.
  if (depth < 5) for (const child of children) calls.push(...(await subAgentCallsOf(client, store, child, depth + 1)));
  return calls;
}

/** Each function call of the model's messages, with the response that followed it (by id, else in order). */
function callsOf(messages: Content[]): RecordedCall[] {
  const calls: RecordedCall[] = [];
  for (const [index, message] of messages.entries()) {
    if (message.role !== 'model') continue;
    const asked = message.parts.flatMap((part) => (part.functionCall ? [part.functionCall] : []));
    if (asked.length === 0) continue;
    const responses = (messages[index + 1]?.parts ?? []).flatMap((part) => (part.functionResponse ? [part.functionResponse] : []));
    for (const [position, call] of asked.entries()) {
      const response = (call.id ? responses.find((candidate) => candidate.id === call.id) : undefined) ?? responses[position];
      if (!response) continue;
      const body = response.response as { output?: unknown; error?: { type?: string; message?: string } };
      calls.push({
        tool: call.name ?? '',
        args: (call.args ?? {}) as Record<string, unknown>,
        outcome: body.error
          ? { ok: false, error: { type: body.error.type ?? 'ToolFailed', message: body.error.message ?? '' } }
          : { ok: true, result: body.output ?? null },
      });
    }
  }
  return calls;
}

/** A file-safe case id from a run id: `slack:T1:C2:1700.1/turn-3` → `slack-t1-c2-1700.1-turn-3`. */
export function caseIdOf(runId: string): string {
  const id = runId
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '');
  return (id || 'case').slice(-100).replace(/^[^a-z0-9]+/, '');
}
