import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createTracing } from '../../telemetry/tracing.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import type { Content } from '../../core/spec.ts';
import { createDispatchBatchHandler } from '../../functions/dispatch/dispatch-batch.ts';
import { createTemporalClientProvider } from '../../functions/dispatch/temporal-client.ts';
import type { Log } from '../../functions/shared/log.ts';
import { createSlackApp } from '../../functions/slack/app.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import { serveOnNode } from '../../local/node-server.ts';
import { pollQueue } from '../../local/poll-queue.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { dispatchConfig } from '../dispatch/support.ts';
import {
  APPROVAL_SECRET,
  SIGNING_SECRET,
  createFifoQueue,
  slackConfig,
  slackPost,
  motoEventQueue,
  sqsClient,
} from '../../testkit/ingress.ts';
import { startMoto, type MotoServer } from '../../testkit/moto.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { appMentionEnvelope } from '../../local/slack-events.ts';
import { noTemporal, temporalAddress, useTemporal } from '../../testkit/temporal.ts';

const TEAM = 'T0TRACE';
const BOT = 'U0BOT';
const ANA = 'U0ANA';
const CHANNEL = 'C0TRACE';
const BOT_TOKEN = 'xoxb-trace-token';
const QUESTION = 'when is the launch of project nightingale?';
const FOLLOW_UP = 'and the rehearsal of project nightingale?';
const ANSWER = 'The launch is on Tuesday.';

/** Every log line of the run: the edge's, the dispatcher's and the worker's (the Runtime logger, at debug). */
const edgeLines: Record<string, unknown>[] = [];
const dispatchLines: Record<string, unknown>[] = [];
const workerLines: LogEntry[] = [];
const logTo =
  (lines: Record<string, unknown>[]): Log =>
  (fields) =>
    lines.push(fields);

const launchDate = defineTool({
  name: 'launch_date',
  description: 'When the launch is.',
  input: z.object({ product: z.string().describe('Which product.') }),
  async handler() {
    return { date: 'Tuesday' };
  },
});
const assistant = defineAgent({ name: 'assistant', instructions: 'Be brief.', tools: [launchDate], limits: { maxSteps: 4 } });

function respond(request: GeminiRequest) {
  const contents = request.body.contents as Content[];
  if (contents.at(-1)!.parts.some((part) => part.functionResponse)) return answer(ANSWER);
  return callTools({ name: 'launch_date', args: { product: 'rocket' } });
}

/**
 * One Slack message, traced from the edge to the reply: every hop's span is a child of the
 * hop before it, in one trace. The edge has no OpenTelemetry SDK (its traceparent travels as an
 * SQS message attribute); the dispatcher, the conversation, the run and its activities do.
 * A second message in the thread, answered by the same conversation run, is a trace of its own.
 */
describe.skipIf(noTemporal)('tracing one Slack message end to end', () => {
  const temporal = useTemporal({ runtime: { logger: new DefaultLogger('DEBUG', (entry) => workerLines.push(entry)) } });
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ serviceName: 'e2e', exporter })!;
  let moto: MotoServer;
  let sqs: SQSClient;
  let slack: SlackApiServer;
  let model: GeminiServer;
  let ingress: Server;
  let ingressUrl: string;
  const stopDispatch = new AbortController();
  let dispatching: Promise<void>;
  const temporalProvider = createTemporalClientProvider({
    env: { TEMPORAL_ADDRESS: temporalAddress },
    connectTimeoutMs: 2000,
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] },
  });

  beforeAll(async () => {
    moto = await startMoto();
    sqs = sqsClient(moto.endpoint);
    slack = await startSlackApiServer({ tokens: [BOT_TOKEN], botUserId: BOT });
    model = await startScriptedModel(respond);
    const queueUrl = await createFifoQueue(sqs, 'e2e-trace');
    ingress = await serveOnNode(
      createSlackApp({ config: slackConfig(queueUrl), queue: motoEventQueue(queueUrl), log: logTo(edgeLines) }),
      0,
    );
    ingressUrl = `http://127.0.0.1:${(ingress.address() as AddressInfo).port}`;
    const taskQueue = temporal.taskQueue('e2e-trace');
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [assistant],
      modelUrl: model.url,
      tracing,
      // The conversation closes soon after its turns, so its own span ends and is exported; long enough
      // for the follow-up to land in the same run.
      conversationDefaults: { idleTimeout: '6 seconds', approvalTimeout: '1 hour' },
      replyAdapters: {
        slack: createSlackReplyAdapter({
          client: createSlackWebClient({ token: BOT_TOKEN, apiUrl: slack.url }),
          approvalTokenSecret: APPROVAL_SECRET,
        }),
      },
    });
    const handler = createDispatchBatchHandler({
      config: dispatchConfig(taskQueue),
      temporal: temporalProvider,
      tracing,
      log: logTo(dispatchLines),
    });
    dispatching = pollQueue({ sqs, queueUrl, handler, signal: stopDispatch.signal, waitTimeSeconds: 1, log: logTo(dispatchLines) });
  });
  afterAll(async () => {
    stopDispatch.abort();
    await dispatching?.catch(() => undefined);
    await temporalProvider.close();
    await new Promise((resolve) => ingress?.close(resolve));
    await slack?.close();
    await model?.close();
    sqs?.destroy();
    await moto?.stop();
    await tracing.shutdown();
  });

  const spans = () => exporter.getFinishedSpans();
  const named = (name: string) => spans().filter((span) => span.name === name);
  const inTrace = (traceId: string) => spans().filter((span) => span.spanContext().traceId === traceId);
  const parentOf = (span: ReadableSpan) =>
    span.parentSpanId ? spans().find((candidate) => candidate.spanContext().spanId === span.parentSpanId) : undefined;
  /** The chain of names from a span up to the trace's root. */
  const ancestry = (span: ReadableSpan): string[] => {
    const names = [span.name];
    for (let parent = parentOf(span); parent; parent = parentOf(parent)) names.push(parent.name);
    return names.reverse();
  };
  const descendsFrom = (span: ReadableSpan, ancestor: ReadableSpan): boolean => {
    for (let parent = parentOf(span); parent; parent = parentOf(parent)) if (parent === ancestor) return true;
    return false;
  };
  const byStart = (a: ReadableSpan, b: ReadableSpan) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1];
  /** The edge spans, first message first. */
  const edges = () => named('slack edge').sort(byStart);
  const replyCount = (rootTs: string) => slack.messages(CHANNEL, rootTs).filter((message) => message.text === ANSWER).length;
  let rootTs = '';

  const mention = (eventId: string, ts: string, text: string, threadTs?: string) =>
    appMentionEnvelope(
      { teamId: TEAM, botUserId: BOT },
      { eventId, user: ANA, channel: CHANNEL, ts, text, ...(threadTs ? { threadTs } : {}) },
    );
  async function post(envelope: unknown) {
    const response = await fetch(`${ingressUrl}/slack/events`, slackPost(JSON.stringify(envelope)));
    expect(response.status).toBe(200);
  }

  it('makes edge → dispatch → conversation → run → model and tool activities → reply one trace of parents and children', async () => {
    rootTs = slack.addUserMessage({ channel: CHANNEL, user: ANA, text: `<@${BOT}> ${QUESTION}` });
    await post(mention('Ev0TRACE', rootTs, QUESTION));
    await expect.poll(() => replyCount(rootTs), { timeout: 30_000, interval: 200 }).toBe(1);
    // A follow-up in the thread after the answer, while the conversation still runs: a signal-like update to the run.
    const followTs = slack.addUserMessage({ channel: CHANNEL, user: ANA, text: `<@${BOT}> ${FOLLOW_UP}`, threadTs: rootTs });
    await post(mention('Ev0TRACE2', followTs, FOLLOW_UP, rootTs));
    await expect.poll(() => replyCount(rootTs), { timeout: 30_000, interval: 200 }).toBe(2);
    // The conversation's span ends when it closes (idle), and the sink hands it over: one run answered both.
    await expect.poll(() => named('RunWorkflow:conversation').length, { timeout: 20_000, interval: 200 }).toBe(1);
    expect(edges()).toHaveLength(2);

    const edge = edges()[0]!;
    expect(edge.parentSpanId).toBeUndefined();
    const traceId = edge.spanContext().traceId;
    const mine = inTrace(traceId);
    const one = (name: string) => {
      const found = mine.filter((span) => span.name === name);
      expect(
        found.map((span) => span.name),
        `one span ${name}`,
      ).toEqual([name]);
      return found[0]!;
    };
    expect(parentOf(one('dispatch'))).toBe(edge);
    expect(parentOf(one('UpdateWithStartWorkflow:message'))!.name).toBe('dispatch');
    expect(ancestry(one('RunWorkflow:conversation'))).toEqual([
      'slack edge',
      'dispatch',
      'UpdateWithStartWorkflow:message',
      'RunWorkflow:conversation',
    ]);
    // The turn runs in the context its message's update ran in.
    const run = one('RunWorkflow:agentRun');
    expect(ancestry(run)).toEqual([
      'slack edge',
      'dispatch',
      'UpdateWithStartWorkflow:message',
      'HandleUpdate:message',
      'StartChildWorkflow:agentRun',
      'RunWorkflow:agentRun',
    ]);
    for (const activity of ['RunActivity:callModel', 'RunActivity:tool:launch_date']) {
      const spansOf = mine.filter((span) => span.name === activity);
      expect(spansOf.length, activity).toBeGreaterThan(0);
      for (const span of spansOf) expect(ancestry(span), activity).toEqual([...ancestry(run), activity.replace('Run', 'Start'), activity]);
    }
    expect(ancestry(one('RunActivity:reply:answer'))).toEqual([
      'slack edge',
      'dispatch',
      'UpdateWithStartWorkflow:message',
      'HandleUpdate:message',
      'StartActivity:reply:answer',
      'RunActivity:reply:answer',
    ]);
    // Two traces in all, one a message.
    expect(new Set(spans().map((span) => span.spanContext().traceId))).toEqual(new Set(edges().map((span) => span.spanContext().traceId)));
  });

  it("puts a later message's turn (its run, model calls and reply) in that message's trace, not the first's", () => {
    const [first, second] = edges();
    const firstTrace = first!.spanContext().traceId;
    const secondTrace = second!.spanContext().traceId;
    expect(secondTrace).not.toBe(firstTrace);

    const runs = named('RunWorkflow:agentRun').sort(byStart);
    expect(runs).toHaveLength(2);
    const run = runs[1]!;
    expect(run.spanContext().traceId).toBe(secondTrace);
    expect(ancestry(run)).toEqual([
      'slack edge',
      'dispatch',
      'UpdateWithStartWorkflow:message',
      'HandleUpdate:message',
      'StartChildWorkflow:agentRun',
      'RunWorkflow:agentRun',
    ]);
    const modelCalls = named('RunActivity:callModel').filter((span) => descendsFrom(span, run));
    expect(modelCalls.length).toBeGreaterThan(0);
    for (const span of modelCalls) expect(span.spanContext().traceId).toBe(secondTrace);
    const replies = named('RunActivity:reply:answer').sort(byStart);
    expect(replies).toHaveLength(2);
    expect(replies[1]!.spanContext().traceId).toBe(secondTrace);
    expect(descendsFrom(replies[1]!, second!)).toBe(true);
    // Nothing of the second turn is left in the first message's trace.
    expect(inTrace(firstTrace).filter((span) => descendsFrom(span, run) || span === run)).toEqual([]);
  });

  it('logs correlation ids from every process, and never the message text, a token or a secret', () => {
    const traceId = exporter
      .getFinishedSpans()
      .find((span) => span.name === 'slack edge')!
      .spanContext().traceId;
    // The edge and the dispatcher name the event, the conversation and the trace.
    expect(edgeLines).toContainEqual(expect.objectContaining({ msg: 'queued', id: expect.stringContaining('slack-message:'), traceId }));
    expect(dispatchLines).toContainEqual(
      expect.objectContaining({
        msg: 'delivered',
        id: expect.stringContaining('slack-message:'),
        traceId,
        conversationId: expect.stringContaining(CHANNEL),
      }),
    );
    // The worker's lines carry the workflow and run ids (the SDK's); lines logged inside a span (an activity's or
    // workflow's own `log` calls) get trace_id from the OpenTelemetry interceptors, the SDK's lifecycle lines do not.
    const activityLines = workerLines.filter((entry) => entry.meta?.activityType === 'callModel');
    expect(activityLines.length).toBeGreaterThan(0);
    expect(activityLines.every((entry) => String(entry.meta?.workflowId).startsWith('slack:') && entry.meta?.workflowRunId)).toBe(true);
    const workflowLines = workerLines.filter((entry) => entry.meta?.workflowType === 'conversation');
    expect(workflowLines.some((entry) => entry.meta?.workflowId && entry.meta?.runId)).toBe(true);

    const everything = JSON.stringify([
      edgeLines,
      dispatchLines,
      workerLines.map((entry) => ({ ...entry, timestampNanos: String(entry.timestampNanos) })),
    ]);
    for (const secret of [
      'nightingale',
      QUESTION,
      FOLLOW_UP,
      'The launch is on Tuesday',
      BOT_TOKEN,
      SIGNING_SECRET,
      APPROVAL_SECRET,
      'test-key',
    ]) {
      expect(everything, `a log line holds "${secret}"`).not.toContain(secret);
    }
  });
});
