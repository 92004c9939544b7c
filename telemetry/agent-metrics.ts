import type { Context as ActivityContext } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import { AMBIENT_REMEMBER_ACTIVITY, type AmbientRememberInput } from '../core/contracts/ambient.ts';
import type { ModelActivities, ModelStepInput } from '../core/contracts/model.ts';
import { REPLY_ANSWER_ACTIVITY, REPLY_APPROVAL_ACTIVITY } from '../core/contracts/replies.ts';
import type { AgentSpec } from '../core/spec.ts';
import type { TranscriptStore } from '../store/transcript-store.ts';

/**
 * The agents' own metrics, through the Temporal Runtime's meter (the same exporter as the
 * SDK's worker metrics: Prometheus locally, OTLP in AWS). Labels are names, never content:
 * agent, model, tool, outcome. The meter adds the SDK's own (namespace, taskQueue,
 * activityType).
 *
 * | metric | kind | labels |
 * | --- | --- | --- |
 * | agent_model_calls | counter | agent, model, outcome (ok, error) |
 * | agent_model_tokens | counter | agent, model, kind (prompt, cached, output, thoughts) |
 * | agent_cost | counter, millionths of a US dollar | agent, model |
 * | agent_cache_hit_rate | histogram, % of a call's prompt tokens served from cache | agent |
 * | agent_model_call_duration | histogram, ms | agent, model |
 * | agent_tool_calls | counter | tool, outcome (ok, error) |
 * | agent_tool_failures | counter | tool |
 * | agent_tool_duration | histogram, ms | tool, outcome |
 * | agent_approval_requests | counter | (activity's) |
 * | agent_replies | counter | (activity's) |
 * | agent_ambient_runs | counter | agent, outcome (quiet, posted, …) |
 *
 * The approvals waiting (`agent_approvals_waiting`, `agent_approval_oldest_wait`) are read from
 * visibility (telemetry/approvals-waiting.ts); the wait at decision (`agent_approval_wait`) is
 * recorded by the run (workflows/approvals.ts).
 */
export const AGENT_METRICS = {
  modelCalls: 'agent_model_calls',
  modelTokens: 'agent_model_tokens',
  modelDuration: 'agent_model_call_duration',
  cost: 'agent_cost',
  cacheHitRate: 'agent_cache_hit_rate',
  toolCalls: 'agent_tool_calls',
  toolFailures: 'agent_tool_failures',
  toolDuration: 'agent_tool_duration',
  approvalRequests: 'agent_approval_requests',
  replies: 'agent_replies',
  ambientRuns: 'agent_ambient_runs',
} as const;

/**
 * Counts each model call and its tokens by agent and model; the spec is read from the (cached)
 * store. `onAttempt` hears each attempt's outcome too (the CloudWatch counts).
 */
export function measuredModel(
  store: TranscriptStore,
  callModel: ModelActivities['callModel'],
  meter: () => ActivityContext['metricMeter'],
  onAttempt?: (outcome: 'ok' | 'error') => void,
): ModelActivities['callModel'] {
  return async function callModel_(input: ModelStepInput) {
    const spec = await store.get<AgentSpec>(input.specRef);
    const tags = { agent: spec.name, model: spec.model };
    const started = Date.now();
    const metrics = meter();
    try {
      const result = await callModel(input);
      metrics.createCounter(AGENT_METRICS.modelCalls, 'calls', 'Model calls').add(1, { ...tags, outcome: 'ok' });
      onAttempt?.('ok');
      const tokens = metrics.createCounter(AGENT_METRICS.modelTokens, 'tokens', 'Model tokens, prompt and output');
      tokens.add(result.usage.promptTokens, { ...tags, kind: 'prompt' });
      tokens.add(result.usage.outputTokens, { ...tags, kind: 'output' });
      tokens.add(result.usage.cachedTokens ?? 0, { ...tags, kind: 'cached' });
      tokens.add(result.usage.thoughtsTokens ?? 0, { ...tags, kind: 'thoughts' });
      // Counters count whole units: cost in millionths of a dollar (1 = $0.000001).
      metrics
        .createCounter(AGENT_METRICS.cost, 'microusd', "Model cost at the table's prices, in millionths of a US dollar")
        .add(Math.round((result.usage.cost ?? 0) * 1_000_000), tags);
      if (result.usage.promptTokens > 0) {
        const rate = Math.round((100 * (result.usage.cachedTokens ?? 0)) / result.usage.promptTokens);
        metrics
          .createHistogram(AGENT_METRICS.cacheHitRate, 'int', '%', "Share of a call's prompt tokens served from the cache")
          .record(rate, { agent: spec.name });
      }
      return result;
    } catch (error) {
      metrics.createCounter(AGENT_METRICS.modelCalls, 'calls', 'Model calls').add(1, { ...tags, outcome: 'error' });
      onAttempt?.('error');
      throw error;
    } finally {
      metrics.createHistogram(AGENT_METRICS.modelDuration, 'int', 'ms', 'Model call latency').record(Date.now() - started, tags);
    }
  };
}

/** Tool latency and failures by tool, approvals requested, replies posted and ambient outcomes, from the activity type. */
export const agentMetricsInterceptor: ActivityInterceptorsFactory = (ctx) => ({ inbound: agentMetricsInbound(ctx) });

function agentMetricsInbound(ctx: ActivityContext): ActivityInboundCallsInterceptor {
  return { execute: (input, next) => measured(ctx, input, next) };
}

async function measured(
  ctx: ActivityContext,
  input: ActivityExecuteInput,
  next: Next<ActivityInboundCallsInterceptor, 'execute'>,
): Promise<unknown> {
  const type = ctx.info.activityType;
  const meter = ctx.metricMeter;
  if (!type.startsWith('tool:')) {
    const result = await next(input);
    if (type === REPLY_APPROVAL_ACTIVITY)
      meter.createCounter(AGENT_METRICS.approvalRequests, 'requests', 'Approval requests posted').add(1);
    if (type === REPLY_ANSWER_ACTIVITY) meter.createCounter(AGENT_METRICS.replies, 'replies', 'Answers posted').add(1);
    if (type === AMBIENT_REMEMBER_ACTIVITY) {
      const { agent, outcome } = input.args[0] as AmbientRememberInput;
      meter.createCounter(AGENT_METRICS.ambientRuns, 'runs', 'Ambient runs by outcome').add(1, { agent, outcome });
    }
    return result;
  }
  return measuredToolCall(meter, type.slice('tool:'.length), () => next(input));
}

/** One tool attempt counted and timed by tool and outcome: an activity's, or one run inside a model call (`fuseReadOnlyTools`). */
export async function measuredToolCall<T>(meter: ActivityContext['metricMeter'], tool: string, attempt: () => Promise<T>): Promise<T> {
  const started = Date.now();
  let outcome = 'ok';
  try {
    return await attempt();
  } catch (error) {
    outcome = 'error';
    meter.createCounter(AGENT_METRICS.toolFailures, 'failures', 'Tool attempts that failed').add(1, { tool });
    throw error;
  } finally {
    meter.createCounter(AGENT_METRICS.toolCalls, 'calls', 'Tool attempts').add(1, { tool, outcome });
    meter.createHistogram(AGENT_METRICS.toolDuration, 'int', 'ms', 'Tool latency').record(Date.now() - started, { tool, outcome });
  }
}
