import { afterEach, describe, expect, it } from 'vitest';
import { calculatorTool } from '../../agents/tools/calculator.ts';
import { compileAgent, defineAgent, toolsOf } from '../../authoring/define-agent.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import { MAX_AGENT_DEPTH, type AgentSpec, type Content } from '../../core/spec.ts';
import type { GeminiReply, GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';

const researcher = defineAgent({
  name: 'researcher',
  description: 'Looks things up and computes.',
  instructions: 'You are the researcher.',
  tools: [calculatorTool],
});
const lead = defineAgent({
  name: 'lead',
  instructions: 'You are the lead.',
  subAgents: [researcher],
  limits: { maxSteps: 6, maxTokens: 1_000 },
});

const withUsage = (reply: GeminiReply, promptTokens: number, outputTokens: number): GeminiReply => ({
  ...reply,
  usage: { promptTokens, outputTokens },
});
const agentOf = (request: GeminiRequest) =>
  request.body.systemInstruction?.parts?.[0]?.text === 'You are the lead.' ? 'lead' : 'researcher';
const hasToolResult = (request: GeminiRequest) => (request.body.contents as Content[]).at(-1)!.parts.some((part) => part.functionResponse);

describe('sub-agents as data', () => {
  it('compile into tools with one task argument, and stop nesting at MAX_AGENT_DEPTH', () => {
    const spec = compileAgent(lead);
    expect(spec.tools.map((tool) => [tool.name, tool.subAgent])).toEqual([['researcher', 'researcher']]);
    expect(spec.tools[0]!.parameters).toMatchObject({ required: ['task'] });
    expect(spec.subAgents?.[0]?.tools.map((tool) => tool.name)).toEqual(['calculate']);

    let chain = defineAgent({ name: 'level5', instructions: 'Bottom.' });
    for (const level of [4, 3, 2, 1, 0])
      chain = defineAgent({ name: `level${level}`, instructions: `Level ${level}.`, subAgents: [chain] });
    let nested: AgentSpec | undefined = compileAgent(chain);
    let depth = 0;
    while (nested?.subAgents?.length) {
      nested = nested.subAgents[0];
      depth += 1;
    }
    expect(depth).toBe(MAX_AGENT_DEPTH);
    expect(nested!.tools).toEqual([]);
    expect(toolsOf([lead]).map((tool) => tool.name)).toEqual(['calculate']);
  });
});

describe.skipIf(noTemporal)('sub-agents', () => {
  const temporal = useTemporal();
  let model: GeminiServer | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  async function runLead(respond: (request: GeminiRequest) => GeminiReply) {
    model = await startScriptedModel(respond);
    const taskQueue = temporal.taskQueue('sub-agents');
    await temporal.startWorker({ taskQueue, tools: [], agents: [lead], modelUrl: model.url });
    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `test-${crypto.randomUUID()}`,
      args: [{ spec: compileAgent(lead), prompt: 'How much is 6*7?' }],
    });
    return { handle, result: (await handle.result()) as AgentRunResult, model };
  }

  it("runs a sub-agent as a child run and adds its tokens and steps to the parent's", async () => {
    const { handle, result } = await runLead((request) => {
      if (agentOf(request) === 'lead') {
        return hasToolResult(request)
          ? withUsage(answer('It is 42, says the researcher.'), 30, 10)
          : withUsage(callTools({ name: 'researcher', args: { task: 'Compute 6*7.' } }), 80, 20);
      }
      return hasToolResult(request)
        ? withUsage(answer('42'), 200, 5)
        : withUsage(callTools({ name: 'calculate', args: { expression: '6*7' } }), 100, 10);
    });
    expect(result).toMatchObject({ answer: 'It is 42, says the researcher.', stopReason: 'answer', steps: 4, toolCalls: 2 });
    // Parent 100 + 40, child 110 + 205.
    expect(result.usage.totalTokens).toBe(455);
    const history = await summariseHistory(handle);
    const started = history.events.find((event) => event.startChildWorkflowExecutionInitiatedEventAttributes)!;
    const childId = started.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId!;
    expect(childId).toMatch(new RegExp(`^${handle.workflowId}/researcher-`));
    const child = await temporal.client.workflow.getHandle(childId).result();
    expect(child).toMatchObject({ answer: '42', steps: 2, usage: { totalTokens: 315 } });
    // A sub-agent reports no progress of its own: its model calls run as local activities, its read-only tool inside the first.
    const childHistory = await summariseHistory(temporal.client.workflow.getHandle(childId));
    expect(childHistory.local).toEqual(['callModel', 'callModel']);
    expect(childHistory.completed['tool:calculate']).toBeUndefined();
    // The parent's model saw the child's answer as the tool's result.
    const lastLeadRequest = model!.requests.filter((request) => agentOf(request) === 'lead').at(-1)!;
    expect((lastLeadRequest.body.contents as Content[]).at(-1)!.parts[0]!.functionResponse!.response).toEqual({
      output: { answer: '42', stopReason: 'answer' },
    });
  });

  it("gives a sub-agent no more than the parent's remaining budget, and the parent stops when the child spent it", async () => {
    const { handle, result, model } = await runLead((request) => {
      if (agentOf(request) === 'lead') return withUsage(callTools({ name: 'researcher', args: { task: 'Compute 6*7.' } }), 80, 20);
      return withUsage(callTools({ name: 'calculate', args: { expression: '6*7' } }), 900, 50);
    });
    const history = await summariseHistory(handle);
    const started = history.events.find((event) => event.startChildWorkflowExecutionInitiatedEventAttributes)!;
    const payload = started.startChildWorkflowExecutionInitiatedEventAttributes!.input!.payloads![0]!;
    const childInput = JSON.parse(Buffer.from(payload.data!).toString()) as { spec: AgentSpec; depth: number };
    expect(childInput.spec.limits).toMatchObject({ maxTokens: 900, maxSteps: 5 });
    expect(childInput.depth).toBe(1);
    const childId = started.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId!;
    expect(await temporal.client.workflow.getHandle(childId).result()).toMatchObject({
      stopReason: 'max_tokens',
      usage: { totalTokens: 950 },
    });
    expect(result).toMatchObject({ stopReason: 'max_tokens', steps: 2, usage: { totalTokens: 1_050 } });
    expect(result.answer).toMatch(/1050 tokens/);
    // One model call each: the parent never called the model again once the child had spent its budget.
    expect(model.requests.map(agentOf)).toEqual(['lead', 'researcher']);
  });

  it('splits what is left between sub-agents called in the same step, so that together they cannot overrun it', async () => {
    const { handle, result } = await runLead((request) => {
      if (agentOf(request) === 'lead') {
        return hasToolResult(request)
          ? withUsage(answer('Both researchers agree.'), 30, 10)
          : withUsage(
              callTools({ name: 'researcher', args: { task: 'Compute 6*7.' } }, { name: 'researcher', args: { task: 'Compute 7*6.' } }),
              80,
              21,
            );
      }
      return withUsage(answer('42'), 100, 5);
    });
    const history = await summariseHistory(handle);
    const children = history.events.flatMap((event) => event.startChildWorkflowExecutionInitiatedEventAttributes ?? []);
    const limits = children.map(
      (child) => (JSON.parse(Buffer.from(child.input!.payloads![0]!.data!).toString()) as { spec: AgentSpec }).spec.limits,
    );
    // After the lead's first step: 5 steps and 899 tokens left, in two parts, the remainder to the first call.
    expect(limits).toMatchObject([
      { maxSteps: 3, maxTokens: 450 },
      { maxSteps: 2, maxTokens: 449 },
    ]);
    expect(result).toMatchObject({ stopReason: 'answer', steps: 4, toolCalls: 2 });
  });
});
