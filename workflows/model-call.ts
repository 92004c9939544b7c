import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  TemporalFailure,
  TimeoutFailure,
  type RetryPolicy,
} from '@temporalio/workflow';
import { RUN_TIME_LIMIT, type ModelActivities, type ModelStepInput, type ModelStepResult } from '../core/contracts/model.ts';

/**
 * No count: the run's time budget (the local call's schedule-to-close, or the run's timer
 * cancelling the step) ends the retries, so a model outage shorter than the run's time limit
 * (a few minutes of 5xx, a run of 429s) delays the turn instead of failing it.
 */
const UNTIL_DEADLINE: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' };

/** One model step, given when the run's time budget ends; undefined when it ended first. */
export interface ModelCaller {
  (input: ModelStepInput, deadlineAt: number): Promise<ModelStepResult | undefined>;
  /** Whether calls run locally, bounded by the deadline they are given (no cancellation scope needed around them). */
  readonly local: boolean;
}

/**
 * How a run calls its model. A local activity by default: the worker running the workflow
 * calls the model inside the workflow task that scheduled it, and the task that records the
 * result (a marker in history) also schedules the step's tool activities, so a step is one
 * workflow task and one activity instead of two of each. A crash mid-call reruns that call
 * only; finished calls are in history. The call ends at the run's deadline by itself (its
 * schedule-to-close, and the activity aborts the request), since the run's timer cannot fire
 * into a workflow task the call holds open.
 *
 * Runs that report their progress to a conversation keep the activity on the model queue
 * (`options.local` false): a local activity holds its workflow task open until it returns, so
 * the "thinking" signal of the step, a command of that task, would reach the conversation only
 * after the model answered. A streamed answer (`input.stream`, only in such runs) needs the
 * activity anyway: it keeps the stream's message in its heartbeat details, which local
 * activities do not have, so a retry finishes that message instead of starting another.
 */
export function createModelCaller(modelTaskQueue: string, options: { local: boolean }): ModelCaller {
  const { callModel: remote } = proxyActivities<ModelActivities>({
    taskQueue: modelTaskQueue,
    startToCloseTimeout: '2 minutes',
    // The model activity beats every 2 s; a dead worker is noticed in 15 s, not 2 minutes.
    heartbeatTimeout: '15 seconds',
    retry: UNTIL_DEADLINE,
  });
  const call = async (input: ModelStepInput, deadlineAt: number) => {
    if (input.stream || !options.local) return remote(input);
    const { callModel: callLocally } = proxyLocalActivities<ModelActivities>({
      startToCloseTimeout: '2 minutes',
      scheduleToCloseTimeout: Math.max(1, deadlineAt - Date.now()),
      // Longer waits between attempts (a 429's Retry-After) become a timer in history rather
      // than a workflow task the worker holds open.
      localRetryThreshold: '10 seconds',
      retry: UNTIL_DEADLINE,
    });
    try {
      return await callLocally({ ...input, deadlineAt });
    } catch (error) {
      if (outOfTime(error)) return undefined;
      // Callers see what a model activity's failure looks like, whichever way the call ran.
      if (error instanceof TemporalFailure && !(error instanceof ActivityFailure) && !isCancellation(error)) {
        const final = error instanceof ApplicationFailure && error.nonRetryable ? 'NON_RETRYABLE_FAILURE' : 'MAXIMUM_ATTEMPTS_REACHED';
        throw new ActivityFailure('Local activity failed', 'callModel', undefined, final, undefined, error);
      }
      throw error;
    }
  };
  return Object.assign(call, { local: options.local });
}

function outOfTime(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof TimeoutFailure) return cause.timeoutType === 'SCHEDULE_TO_CLOSE';
  return cause instanceof ApplicationFailure && cause.type === RUN_TIME_LIMIT;
}
