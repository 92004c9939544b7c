import { asyncLocalStorage, CancelledFailure, Context } from '@temporalio/activity';
import { toolActivityType, type ToolActivities } from '../../core/contracts/tools.ts';
import type { ModelActivities, ModelStepInput, ModelStepResult, ReadOnlyToolOffer } from '../../core/contracts/model.ts';
import type { PlannedCall, ToolResultRef } from '../../core/spec.ts';
import { measuredToolCall } from '../../telemetry/agent-metrics.ts';

type CallModel = ModelActivities['callModel'];

/** Time kept back from the model call's start-to-close for storing the results and completing. */
const MARGIN_MS = 1_000;

/**
 * The model call of a read-only step, with its tools: when the workflow offers read-only tools
 * (`ModelStepInput.readOnlyTools`) and every call of the model's answer names one of them, the
 * calls run here, right after the answer, through the worker's own tool activities (an eval's
 * included), and their results come back with it. The step is then one local activity, one
 * trip between the workflow and the activity executor instead of two. A crash before the
 * workflow task completes runs the model call and the tools again, which changes nothing:
 * the tools are read-only. Any failure of a tool hands the calls back to the workflow, which
 * runs them as it would have (local activities with each tool's retries and timeout).
 */
export function fuseReadOnlyTools(callModel: CallModel, tools: ToolActivities): CallModel {
  return async (input: ModelStepInput): Promise<ModelStepResult> => {
    const step = await callModel(input);
    const offer = input.readOnlyTools;
    if (!offer || !runnable(step.calls, offer, tools)) return step;
    const toolResults = await runCalls(step.calls, offer, tools);
    return toolResults ? { ...step, toolResults } : step;
  };
}

function runnable(calls: PlannedCall[], offer: ReadOnlyToolOffer, tools: ToolActivities): boolean {
  if (calls.length === 0 || calls.length > offer.maxCalls) return false;
  return calls.every((call) => tools[toolActivityType(call.name)] && offer.tools.some((tool) => tool.name === call.name));
}

/** The calls side by side, each in its own activity context; undefined when any failed (the others are stopped). */
async function runCalls(calls: PlannedCall[], offer: ReadOnlyToolOffer, tools: ToolActivities): Promise<ToolResultRef[] | undefined> {
  const parent = currentContext();
  // The tools end before the model call's own start-to-close would: past it, the call would be
  // retried, model and tools again, each time. A tool that needs longer runs on its own.
  const leftMs = parent
    ? parent.info.currentAttemptScheduledTimestampMs + parent.info.startToCloseTimeoutMs - Date.now() - MARGIN_MS
    : Infinity;
  if (leftMs <= 0) return undefined;
  const failed = new AbortController();
  const settled = await Promise.allSettled(
    calls.map(async (call, index) => {
      const type = toolActivityType(call.name);
      const timeoutMs = offer.tools.find((tool) => tool.name === call.name)!.timeoutMs;
      const signal = AbortSignal.any([
        failed.signal,
        AbortSignal.timeout(Math.max(1, Math.min(timeoutMs, leftMs))),
        ...(parent ? [parent.cancellationSignal] : []),
      ]);
      const run = () => tools[type]!({ call, ...(offer.conversation ? { conversation: offer.conversation } : {}) });
      if (!parent) return run();
      try {
        return await asyncLocalStorage.run(callContext(parent, type, index, signal), () =>
          measuredToolCall(parent.metricMeter, call.name, run),
        );
      } catch (error) {
        failed.abort();
        throw error;
      }
    }),
  );
  // A stop of the run is the model call's to report: it ends as cancelled, not with results.
  if (parent?.cancellationSignal.aborted) throw new CancelledFailure('The run stopped while its read-only tools ran.');
  if (settled.some((outcome) => outcome.status === 'rejected')) return undefined;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<ToolResultRef>).value);
}

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    // Called directly (a benchmark's in-process loop): the tools run without an activity context.
    return undefined;
  }
}

/**
 * What a tool activity reads of its context, for one call run inside the model's: its own type,
 * an id of its own (so `idempotencyKey` differs per call), and a cancellation that also fires
 * at the tool's timeout or when a sibling call failed. Heartbeats, the logger and the meter are
 * the model call's.
 */
function callContext(parent: Context, type: string, index: number, signal: AbortSignal): Context {
  const cancelled = new Promise<never>((_resolve, reject) => {
    const stop = () => reject(new CancelledFailure(signal.reason instanceof Error ? signal.reason.message : 'Cancelled'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  cancelled.catch(() => undefined);
  return Object.create(parent, {
    info: { value: { ...parent.info, activityType: type, activityId: `${parent.info.activityId}/${index + 1}` } },
    cancellationSignal: { value: signal },
    cancelled: { value: cancelled },
  }) as Context;
}
