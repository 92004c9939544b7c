import type { ReplyChannel } from '../../core/conversation.ts';
import type { TurnStatus } from './reply-channel.ts';

/**
 * The status line of an assistant thread: Slack shows "<App> <status>" under the thread and
 * rotates the loading messages, until the app replies or two minutes pass. In channels,
 * where assistant threads do not exist, the turn keeps its status message instead.
 */
export function isAssistantThread(channel: Pick<Extract<ReplyChannel, { kind: 'slack' }>, 'channelId' | 'threadTs'>): boolean {
  // Assistant threads live in the app's direct messages, whose ids start with D.
  return channel.channelId.startsWith('D') && channel.threadTs !== '';
}

/** What `assistant.threads.setStatus` is given for a turn's status; done and stopped clear it. */
export function assistantStatus(status: TurnStatus): { status: string; loadingMessages: string[] } {
  switch (status.state) {
    case 'thinking':
      return {
        status: 'is thinking…',
        loadingMessages: [`Thinking… (step ${status.step})`, `Working out the next step (step ${status.step})…`],
      };
    case 'tool':
      if (status.output) return { status: 'is thinking…', loadingMessages: [`Reading what ${status.tool} gave (step ${status.step})…`] };
      return {
        status: `is running ${status.tool}…`,
        loadingMessages: [`Running ${status.tool}… (step ${status.step})`, `Waiting for ${status.tool} to answer…`],
      };
    case 'waiting_for_approval':
      return { status: `is waiting for approval to run ${status.tool}`, loadingMessages: [] };
    case 'done':
    case 'stopped':
    case 'closed':
      return { status: '', loadingMessages: [] };
  }
}
