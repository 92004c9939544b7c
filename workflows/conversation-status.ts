import { condition } from '@temporalio/workflow';
import type { ReplyChannel, TurnProgress } from '../core/conversation.ts';
import { REPLY_STATUS_ACTIVITY } from '../core/contracts/replies.ts';
import type { TurnStatus } from '../core/replies.ts';
import type { RunningTurn } from './conversation-state.ts';
import { postReply } from './replies.ts';

/** Where a turn's status is shown. */
export interface StatusTarget {
  channel: ReplyChannel;
  /** The turn's key on the reply channel. */
  key: string;
}

export interface StatusMirror {
  /** Settles once "thinking" is posted: the run's own statuses (waiting for approval) come after it. */
  thinking: Promise<void>;
  /** Stops mirroring once the turn is over; settles when the last post has. */
  close(): Promise<void>;
}

/**
 * Mirrors a turn's progress (which step, which tool, what the tool gave) on its reply channel: "thinking" first,
 * then one post at a time and only the newest state; the adapter throttles further. Quiet
 * while an approval waits: the run posts that status itself.
 */
export function mirrorStatus(
  target: StatusTarget,
  running: () => RunningTurn | undefined,
  waitingForApproval: () => boolean,
  title?: string,
): StatusMirror {
  const thinking = postReply(REPLY_STATUS_ACTIVITY, { ...target, status: { state: 'thinking', step: 1, ...(title ? { title } : {}) } });
  let turnOver = false;
  const mirroring = (async () => {
    await thinking;
    let shown = statusKey({ state: 'thinking', step: 1 });
    for (;;) {
      await condition(() => {
        const turn = running();
        return (
          turnOver ||
          (turn !== undefined && !waitingForApproval() && (turn.unshownTool !== undefined || statusKey(turn.progress) !== shown))
        );
      });
      const turn = running();
      if (turnOver || !turn) return;
      const progress = turn.unshownTool ?? turn.progress;
      turn.unshownTool = undefined;
      shown = statusKey(progress);
      await postReply(REPLY_STATUS_ACTIVITY, { ...target, status: statusOf(progress) });
    }
  })();
  return {
    thinking,
    close() {
      turnOver = true;
      return mirroring;
    },
  };
}

type Progress = Omit<TurnProgress, 'runWorkflowId'>;

/** Identifies a shown status; step 0 (before the run's first model call) shows as step 1. */
function statusKey(progress: Progress): string {
  return `${progress.state}:${Math.max(1, progress.step)}:${progress.tools?.join(',') ?? ''}${progress.output ? ':done' : ''}`;
}

function statusOf(progress: Progress): TurnStatus {
  return progress.state === 'tool' && progress.tools?.length
    ? { state: 'tool', step: progress.step, tool: progress.tools.join(', '), ...(progress.output ? { output: progress.output } : {}) }
    : { state: 'thinking', step: Math.max(1, progress.step) };
}
