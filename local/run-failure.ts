/** Why an ambient run failed, for the console's Ambient pane. */
import { WorkflowFailedError, type Client } from '@temporalio/client';

/** Longest reason the Ambient pane shows for a failed run, on one line. */
const MAX_REASON_CHARS = 200;

/**
 * Why an ambient run failed, in one line: the summary a run that ended "failed" left (a step
 * it could not take, e.g. a missing setting), or the failure of a run that did not end at all.
 */
export async function failureOf(
  client: Client,
  workflow: { workflowId: string; firstExecutionRunId: string },
): Promise<string | undefined> {
  const handle = client.workflow.getHandle(workflow.workflowId, workflow.firstExecutionRunId);
  let reason: string | undefined;
  try {
    const result = (await Promise.race([handle.result(), new Promise((resolve) => setTimeout(resolve, 500, undefined))])) as
      { summary?: unknown } | undefined;
    reason = typeof result?.summary === 'string' ? result.summary : undefined;
  } catch (error) {
    let cause: { message?: string; cause?: unknown } | undefined =
      error instanceof WorkflowFailedError ? (error.cause ?? error) : undefined;
    while (cause?.cause && typeof cause.cause === 'object') cause = cause.cause as typeof cause;
    reason = cause?.message;
  }
  if (!reason) return undefined;
  const line = reason.replace(/\s+/g, ' ').trim();
  return line.length <= MAX_REASON_CHARS ? line : `${line.slice(0, MAX_REASON_CHARS - 1)}…`;
}
