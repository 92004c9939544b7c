import { Context } from '@temporalio/activity';

/** How often a working activity tells the server it is alive, which is also how it hears of a cancellation. */
const HEARTBEAT_EVERY_MS = 2_000;

export interface Heartbeats {
  /** Beats now (a tool reporting progress), besides the regular beats. */
  beat(): void;
  stop(): void;
}

/**
 * Heartbeats every `HEARTBEAT_EVERY_MS` until stopped, with `details()` as the progress.
 * No beat at the start: the first one is sent to the server at once, one more write a call
 * (about 3 ms a step in `npm run bench -- overhead`); heartbeat timeouts leave room for the
 * first beat after 2 s. Outside an activity (a direct call in a test or a benchmark) it does nothing.
 */
export function startHeartbeats(details: () => unknown = () => undefined): Heartbeats {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return { beat: () => undefined, stop: () => undefined };
  }
  // A local activity (a model call run inside its workflow task) has no heartbeats: Core keeps its task alive.
  if (context.info.isLocal) return { beat: () => undefined, stop: () => undefined };
  const beat = () => context.heartbeat(details());
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  return { beat, stop: () => clearInterval(timer) };
}
