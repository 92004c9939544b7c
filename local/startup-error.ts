/**
 * An expected reason not to start (an old Node, no Temporal CLI, an unreachable address, a
 * port in use): the entry prints the message, one line naming the fix, and no stack trace.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
