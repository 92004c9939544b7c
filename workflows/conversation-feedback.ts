import { defineUpdate, setHandler } from '@temporalio/workflow';
import { FEEDBACK_UPDATE, type FeedbackRequest, type TurnFeedback } from '../core/conversation.ts';
import type { Intake } from './conversation-intake.ts';
import type { ConversationState } from './conversation-state.ts';

export const feedbackUpdate = defineUpdate<TurnFeedback, [FeedbackRequest]>(FEEDBACK_UPDATE);

/**
 * Records thumbs up or down on a turn's answer in its summary (the `turns` query shows it):
 * each person's latest click counts once. A turn that has not happened is refused.
 */
export function acceptFeedback(state: ConversationState, intake: Intake): void {
  setHandler(
    feedbackUpdate,
    ({ turn, value, by }) => {
      const summary = intake.summaryOf(turn);
      const latest = { ...summary.feedback?.by, [by]: value };
      const votes = Object.values(latest);
      summary.feedback = {
        positive: votes.filter((vote) => vote === 'positive').length,
        negative: votes.filter((vote) => vote === 'negative').length,
        by: latest,
      };
      return summary.feedback;
    },
    {
      validator: ({ turn, value }) => {
        if (!Number.isInteger(turn) || turn < 1 || turn > state.turns) throw new Error(`This conversation has no turn ${turn}.`);
        if (value !== 'positive' && value !== 'negative') throw new Error(`Feedback is positive or negative, not ${String(value)}.`);
      },
    },
  );
}
