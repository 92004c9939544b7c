import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { compileAgent, defineAgent } from '../../authoring/define-agent.ts';
import type { AgentSpec, Content, McpServerRef } from '../../core/spec.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import type { AgentRunResult } from '../../workflows/agent-run.ts';
import { summariseHistory } from '../../testkit/history.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { startHttpOrderServer, type HttpOrderServer } from './http-order-server.ts';
import { AGENT_RUN_WORKFLOW } from '../../core/run-events.ts';
import { tracingWorkerOptions } from '../../telemetry/worker-tracing.ts';

const STDIO_SERVER = fileURLToPath(new URL('./stdio-order-server.ts', import.meta.url));

const toolResponse = (request: GeminiRequest) =>
  (request.body.contents as Content[]).at(-1)!.parts.find((part) => part.functionResponse)?.functionResponse;

/** Calls the tool named in the question, then repeats what it got back. */
function respond(request: GeminiRequest) {
  const response = toolResponse(request);
  if (response) return answer(JSON.stringify(response.response));
  const question = (request.body.contents as Content[]).at(-1)!.parts[0]!.text ?? '';
  const [, tool, order] = /^call (\S+) (\S+)$/.exec(question) ?? [];
  return callTools({ name: tool!, args: { order } });
}

describe.skipIf(noTemporal)('MCP tools', () => {
  const temporal = useTemporal();
  let model: GeminiServer;
  let http: HttpOrderServer;
  let taskQueue: string;
  beforeAll(async () => {
    model = await startScriptedModel(respond);
    http = await startHttpOrderServer();
    taskQueue = temporal.taskQueue('mcp');
    // The worker decides what each name runs; specs only name the servers.
    await temporal.startWorker({
      taskQueue,
      tools: [],
      modelUrl: model.url,
      mcpServers: {
        orders: { transport: 'stdio', command: process.execPath, args: [STDIO_SERVER] },
        shop: { transport: 'http', url: http.url },
      },
    });
  });
  afterAll(async () => {
    await model?.close();
    await http?.close();
  });
  afterEach(() => {
    http.methods.length = 0;
  });

  async function run(server: McpServerRef, prompt: string) {
    const spec: AgentSpec = {
      ...compileAgent(defineAgent({ name: 'orders-agent', instructions: 'Help with orders.' })),
      mcpServers: [server],
    };
    const handle = await temporal.client.workflow.start(AGENT_RUN_WORKFLOW, {
      taskQueue,
      workflowId: `test-${crypto.randomUUID()}`,
      args: [{ spec, prompt }],
    });
    return { handle, result: (await handle.result()) as AgentRunResult };
  }

  it('lists the tools of a stdio server once, recorded in history, and runs a call as an activity in that server', async () => {
    const { handle, result } = await run({ name: 'orders' }, 'call orders_lookup_order A-1');
    const output = JSON.parse(result.answer) as { output: { order: string; status: string; servedBy: number } };
    expect(output.output).toMatchObject({ order: 'A-1', status: 'shipped' });
    // Served by the server's own process, not this one.
    expect(output.output.servedBy).not.toBe(process.pid);
    const history = await summariseHistory(handle);
    expect(history.scheduled).toEqual(['mcp:listTools', 'appendToTranscript', 'callModel', 'mcp:call', 'callModel']);
    const call = history.events.find((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'mcp:call')!;
    const input = JSON.parse(Buffer.from(call.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!).toString()) as Record<
      string,
      unknown
    >;
    expect(input).toMatchObject({
      server: { name: 'orders' },
      tool: 'lookup_order',
      call: { name: 'orders_lookup_order', args: { order: 'A-1' } },
    });
    expect(input.server).not.toHaveProperty('command');
    // The model was offered the server's tools under prefixed names, with their JSON Schema.
    const declarations = model.requests.find(
      (request) => request.body.contents.length === 1 && request.body.contents[0]!.parts[0]!.text === 'call orders_lookup_order A-1',
    )!.body.tools![0]!.functionDeclarations!;
    expect(declarations.map((declaration) => declaration.name)).toEqual(['orders_lookup_order', 'orders_cancel_order']);
    expect(declarations[0]!.parametersJsonSchema).toMatchObject({
      type: 'object',
      properties: { order: { type: 'string' } },
      required: ['order'],
    });
  });

  it('calls a streamable HTTP server; a tool error reaches the model as an error, not a failed run', async () => {
    const { handle, result } = await run({ name: 'shop', tools: ['cancel_order'] }, 'call shop_cancel_order A-1');
    expect(JSON.parse(result.answer)).toEqual({
      error: { type: 'McpToolError', message: 'Order A-1 is already shipped and cannot be cancelled.' },
    });
    expect(http.methods).toContain('tools/list');
    expect(http.methods).toContain('tools/call');
    expect((await summariseHistory(handle)).failedAttempts).toBe(0);

    // Replay needs no server: the tool list and the call's result are in history.
    const { handle: lookup, result: found } = await run({ name: 'shop' }, 'call shop_lookup_order A-1');
    expect(JSON.parse(found.answer)).toMatchObject({ output: { order: 'A-1', status: 'shipped' } });
    await http.close();
    await Worker.runReplayHistory(
      { workflowBundle: { code: inject('workflowBundleCode') }, sinks: tracingWorkerOptions(undefined).sinks },
      await lookup.fetchHistory(),
      lookup.workflowId,
    );
    http = await startHttpOrderServer();
  });
});
