import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import * as z from 'zod';
import { calculatorTool } from '../../agents/tools/calculator.ts';
import { sendApproval, sendMessage, sendStop } from '../../temporal-client/send-message.ts';
import { AMBIENT_RUN_WORKFLOW } from '../../core/ambient.ts';
import {
  CURRENT_STEP_QUERY,
  PENDING_APPROVALS_QUERY,
  TURNS_QUERY,
  type CurrentStep,
  type IncomingMessage,
  type PendingApproval,
  type TurnSummary,
} from '../../core/conversation.ts';
import { compileAgent, defineAgent, type AgentDefinition } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import type { Content } from '../../core/spec.ts';
import type { GeminiReply, GeminiRequest } from '../../local/gemini-server.ts';

/**
 * The runs whose histories the replay tests keep: each scenario drives real workflows on a
 * dev server and names the executions to record. `npm run record-histories` runs them all.
 */

const lookup = defineTool({
  name: 'slow_lookup',
  description: 'Looks a key up, slowly.',
  input: z.object({ key: z.string().describe('What to look up.') }),
  async handler({ key }) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { key, value: key.toUpperCase() };
  },
});
const deploy = defineTool({
  name: 'deploy',
  description: 'Deploys a service.',
  input: z.object({ service: z.string().describe('Service name.') }),
  approval: true,
  handler: ({ service }) => ({ deployed: service }),
});
const waitForRollout = defineTool({
  name: 'wait_for_rollout',
  description: 'Waits for a rollout to finish.',
  input: z.object({ rollout: z.string().describe('Rollout id.') }),
  async handler(_args, { signal }) {
    await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
  },
});

const helper = defineAgent({ name: 'replay_helper', description: 'Helps.', instructions: 'You are the helper.', tools: [calculatorTool] });
/** Slack channel of the ambient scenario; the recorder serves it from the Slack stand-in. */
export const REPLAY_AMBIENT_CHANNEL = 'C0REPLAY';

export const replayAgents: AgentDefinition[] = [
  defineAgent({ name: 'replay', instructions: 'Be brief.', tools: [calculatorTool, lookup, deploy, waitForRollout], subAgents: [helper] }),
  defineAgent({
    name: 'replay_mcp',
    instructions: 'Use the order tools.',
    mcpServers: [
      {
        name: 'orders',
        transport: 'stdio',
        command: process.execPath,
        args: [fileURLToPath(new URL('../mcp/stdio-order-server.ts', import.meta.url))],
      },
    ],
  }),
  defineAgent({
    name: 'replay_ambient',
    instructions: 'Report what changed.',
    check: async ({ cursor }) => ({ quiet: false, cursor: `${cursor ?? 'start'}+1`, context: '- changed: deploys.md' }),
    triggers: [
      {
        id: 'digest',
        every: '1 hour',
        prompt: 'What changed?',
        deliver: { kind: 'slack', channel: REPLAY_AMBIENT_CHANNEL, team: 'T0REPLAY' },
      },
    ],
  }),
];

const reply = (parts: Content['parts']): GeminiReply => ({ content: { role: 'model', parts } });
const call = (name: string, args: Record<string, unknown>) => ({ functionCall: { name, args } });

/** The scripted model of every scenario: it answers by the question it is asked. */
export function respond(request: GeminiRequest): GeminiReply {
  const contents = request.body.contents as Content[];
  const results = contents.at(-1)!.parts.flatMap((part) => (part.functionResponse ? [part.functionResponse] : []));
  if (results.length > 0) return reply([{ text: `Done: ${JSON.stringify(results.map((result) => result.response))}` }]);
  const question = [...contents].reverse().find((content) => content.role === 'user')?.parts[0]?.text ?? '';
  if (question.startsWith('plain')) return reply([call('calculate', { expression: '2+2' })]);
  if (question.startsWith('parallel')) return reply(['a', 'b', 'c'].map((key) => call('slow_lookup', { key })));
  if (question.startsWith('approval')) return reply([call('deploy', { service: 'api' })]);
  if (question.startsWith('stop')) return reply([call('wait_for_rollout', { rollout: 'r-1' })]);
  if (question.startsWith('sub-agent')) return reply([call('replay_helper', { task: 'Compute 6*7.' })]);
  if (question.startsWith('Compute')) return reply([call('calculate', { expression: '6*7' })]);
  if (question.startsWith('[Scheduled run')) return reply([{ text: 'The deploy window changed.' }]);
  if (question.startsWith('mcp')) return reply([call('orders_lookup_order', { order: 'A-1' })]);
  return reply([{ text: `You said: ${question}` }]);
}

export interface Recorded {
  /** File name without extension. */
  name: string;
  workflowId: string;
  runId?: string;
}

interface ScenarioContext {
  client: Client;
  taskQueue: string;
}

const poll = async <T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

function conversationOf({ client, taskQueue }: ScenarioContext, options: { maxHistoryEvents?: number } = {}) {
  const conversationId = `replay:${crypto.randomUUID()}`;
  const handle = client.workflow.getHandle(conversationId);
  let last: IncomingMessage | undefined;
  const deliver = (message: IncomingMessage) =>
    sendMessage(client, {
      conversationId,
      taskQueue,
      message,
      start: { agent: 'replay', channel: { kind: 'none' }, options: { idleTimeout: '2 seconds', ...options } },
    });
  return {
    conversationId,
    handle,
    send(text: string) {
      last = { id: crypto.randomUUID(), text, user: { id: 'U-ASKER' }, receivedAt: new Date().toISOString() };
      return deliver(last);
    },
    /** Delivers the last message again. */
    resend: () => deliver(last!),
    turn: (turn: number, status: TurnSummary['status'] = 'answered') =>
      poll(
        () => handle.query<TurnSummary[]>(TURNS_QUERY),
        (turns) => turns.some((summary) => summary.turn === turn && summary.status === status),
        `turn ${turn} ${status}`,
      ),
    /** Waits for the idle close, so the recorded history is complete. */
    closed: () => handle.result(),
  };
}

async function runAgent({ client, taskQueue }: ScenarioContext, prompt: string, agent = replayAgents[0]!): Promise<string> {
  const workflowId = `replay-run:${crypto.randomUUID()}`;
  await client.workflow.execute(AGENT_RUN_WORKFLOW, { taskQueue, workflowId, args: [{ spec: compileAgent(agent), prompt }] });
  return workflowId;
}

export const scenarios: Record<string, (context: ScenarioContext) => Promise<Recorded[]>> = {
  async 'agent-run-plain'(context) {
    return [{ name: 'agent-run-plain', workflowId: await runAgent(context, 'plain: what is 2+2?') }];
  },
  async 'agent-run-parallel-tools'(context) {
    return [{ name: 'agent-run-parallel-tools', workflowId: await runAgent(context, 'parallel: look up a, b and c') }];
  },
  async 'agent-run-sub-agent'(context) {
    const workflowId = await runAgent(context, 'sub-agent: ask the helper');
    const history = await context.client.workflow.getHandle(workflowId).fetchHistory();
    const child = history.events!.find((event) => event.startChildWorkflowExecutionInitiatedEventAttributes)!;
    return [
      { name: 'agent-run-sub-agent', workflowId },
      { name: 'agent-run-sub-agent.child', workflowId: child.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId! },
    ];
  },
  async 'agent-run-mcp'(context) {
    return [{ name: 'agent-run-mcp', workflowId: await runAgent(context, 'mcp: look up order A-1', replayAgents[1]) }];
  },
  async 'conversation-two-turns'(context) {
    const chat = conversationOf(context);
    await chat.send('first turn');
    await chat.turn(1);
    await chat.send('second turn');
    await chat.turn(2);
    await chat.closed();
    return [
      { name: 'conversation-two-turns', workflowId: chat.conversationId },
      { name: 'conversation-two-turns.turn-1', workflowId: `${chat.conversationId}/turn-1` },
      { name: 'conversation-two-turns.turn-2', workflowId: `${chat.conversationId}/turn-2` },
    ];
  },
  async 'conversation-continue-as-new'(context) {
    const chat = conversationOf(context, { maxHistoryEvents: 1 });
    const first = await chat.send('first turn');
    await chat.turn(1);
    // The run that answered a turn is the parent its child names.
    const parentRun = async (turn: number) => {
      const child = await context.client.workflow.getHandle(`${chat.conversationId}/turn-${turn}`).fetchHistory();
      return child.events![0]!.workflowExecutionStartedEventAttributes!.parentWorkflowExecution!.runId!;
    };
    const firstRun = await parentRun(1);
    await poll(
      () => chat.handle.describe(),
      (description) => description.runId !== firstRun,
      'continue-as-new',
    );
    // Redelivered after continue-as-new: the carried ids answer it as a duplicate.
    const again = await chat.resend();
    if (!again.duplicate || again.turn !== first.turn) throw new Error(`A redelivery was not recognised: ${JSON.stringify(again)}`);
    await chat.send('second turn');
    await chat.turn(2);
    const secondRun = await parentRun(2);
    await chat.closed();
    return [
      { name: 'conversation-continue-as-new.first-run', workflowId: chat.conversationId, runId: firstRun },
      { name: 'conversation-continue-as-new.second-run', workflowId: chat.conversationId, runId: secondRun },
      { name: 'conversation-continue-as-new', workflowId: chat.conversationId },
    ];
  },
  async 'conversation-approval'(context) {
    const chat = conversationOf(context);
    await chat.send('approval: deploy the api');
    const [request] = await poll(
      () => chat.handle.query<PendingApproval[]>(PENDING_APPROVALS_QUERY),
      (pending) => pending.length === 1,
      'an approval request',
    );
    await sendApproval(context.client, chat.conversationId, { requestId: request!.requestId, decision: 'approve', approver: 'U-ASKER' });
    await chat.turn(1);
    await chat.closed();
    return [
      { name: 'conversation-approval', workflowId: chat.conversationId },
      { name: 'conversation-approval.turn-1', workflowId: `${chat.conversationId}/turn-1` },
    ];
  },
  async 'conversation-stop'(context) {
    const chat = conversationOf(context);
    await chat.send('stop: watch the rollout');
    await poll(
      () => chat.handle.query<CurrentStep>(CURRENT_STEP_QUERY),
      (step) => step.state === 'tool',
      'the tool to start',
    );
    // Give the tool activity time to start, so its cancellation is in history.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await sendStop(context.client, chat.conversationId, { by: 'U-ASKER' });
    await chat.turn(1, 'stopped');
    await chat.send('after the stop');
    await chat.turn(2);
    await chat.closed();
    return [
      { name: 'conversation-stop', workflowId: chat.conversationId },
      { name: 'conversation-stop.turn-1', workflowId: `${chat.conversationId}/turn-1` },
      { name: 'conversation-stop.turn-2', workflowId: `${chat.conversationId}/turn-2` },
    ];
  },
  async 'ambient-run'({ client, taskQueue }) {
    const agent = replayAgents.find((candidate) => candidate.name === 'replay_ambient')!;
    const workflowId = `ambient:replay_ambient:digest-${crypto.randomUUID()}`;
    await client.workflow.execute(AMBIENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [{ agent: agent.name, trigger: agent.triggers[0]!, origin: 'definition' }],
    });
    return [
      { name: 'ambient-run', workflowId },
      { name: 'ambient-run.run', workflowId: `${workflowId}/run` },
    ];
  },
};

export const replayTools = [calculatorTool, lookup, deploy, waitForRollout];
