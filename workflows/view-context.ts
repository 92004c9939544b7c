import { allHandlersFinished, condition, continueAsNew, defineQuery, defineUpdate, setHandler, workflowInfo } from '@temporalio/workflow';
import { LATEST_VIEW_CONTEXT_QUERY, VIEW_CONTEXT_UPDATE, type ViewContextChange } from '../core/conversation.ts';
import { validContext } from './conversation-context.ts';

export const setViewContextUpdate = defineUpdate<void, [ViewContextChange]>(VIEW_CONTEXT_UPDATE);
export const latestViewContextQuery = defineQuery<ViewContextChange | undefined>(LATEST_VIEW_CONTEXT_QUERY);

/** How long a person's view context is kept without a change. */
const KEPT_FOR = '1 day';
/** Changes one run takes before it continues as new (each is a few events). */
const MAX_CHANGES_PER_RUN = 500;

/**
 * What one person has open in Slack while the agent is visible (`app_context_changed`): only
 * the latest change is kept, and the dispatcher hands it to the conversation of the person's
 * next message. Completes after a day without a change.
 */
export async function viewContext(latest?: ViewContextChange): Promise<void> {
  let current = latest;
  let changes = 0;
  setHandler(
    setViewContextUpdate,
    (change) => {
      current = change;
      changes += 1;
    },
    { validator: (change) => validContext(change?.context) },
  );
  setHandler(latestViewContextQuery, () => current);
  for (;;) {
    const seen = changes;
    const changed = await condition(() => changes !== seen, KEPT_FOR);
    if (!changed) {
      await condition(allHandlersFinished);
      if (changes === seen) return;
    }
    if (changes >= MAX_CHANGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof viewContext>(current);
    }
  }
}
