import type { ReplyChannel } from '../../core/conversation.ts';

/**
 * Where the model activity sends an answer while Gemini writes it: the worker's side of the
 * reply channel, keyed by the turn's reply key. Chunks never pass through the workflow: its
 * history keeps the step's result only, as before.
 */
export interface AnswerStreams {
  /** A stream for one model step, or undefined when this channel does not stream (the answer is posted whole later). */
  open(target: AnswerStreamTarget, resume?: StreamResume): AnswerStream | undefined;
}

export interface AnswerStreamTarget {
  channel: ReplyChannel;
  /** The turn's reply key: the same the reply activities use. */
  key: string;
}

/** What an attempt leaves in its heartbeat, so a retry finds the message it started. */
export interface StreamResume {
  ts: string;
}

export interface AnswerStream {
  /** Text as the model writes it; sent in chunks within Slack's limits. */
  append(text: string): Promise<void>;
  /**
   * The step is over. `final`: the text is the turn's answer (no tool calls follow), and the
   * message is marked as the answer so the answer step only finalises it.
   */
  finish(final: boolean): Promise<void>;
  /** Set once a message exists: what a retry needs (`StreamResume`). */
  progress(): StreamResume | undefined;
}
