/**
 * The trace context a piece of workflow code runs in, without the workflows importing
 * OpenTelemetry (their bundle holds no package besides @temporalio/workflow). The interceptor
 * module (workflows/interceptors.ts) installs how to read and enter the active context as it
 * loads; without it both do nothing.
 *
 * A conversation uses this to run each turn in the trace of the message that asked for it:
 * the message's update handler runs in that message's context, the turn in the run's main loop.
 * Entering a context schedules and records nothing: only the headers of what the turn starts
 * differ, which replay does not compare.
 */

declare const traceContextBrand: unique symbol;
/** An opaque context (an OpenTelemetry `Context` when the interceptors are loaded). */
export type TraceContext = { readonly [traceContextBrand]: true };

export interface TraceContextHooks {
  /** The active context, or undefined when no span is active (nothing to continue). */
  active(): TraceContext | undefined;
  within<T>(context: TraceContext, fn: () => T): T;
}

let hooks: TraceContextHooks | undefined;

/** Called once by the interceptor module as it loads. */
export function installTraceContext(installed: TraceContextHooks): void {
  hooks = installed;
}

/** The context active now; undefined without the interceptors or an active span. */
export function activeTraceContext(): TraceContext | undefined {
  return hooks?.active();
}

/** Runs `fn` in `context` (and everything it awaits); just runs it without a context or the interceptors. */
export function withinTraceContext<T>(context: TraceContext | undefined, fn: () => T): T {
  return context !== undefined && hooks ? hooks.within(context, fn) : fn();
}
