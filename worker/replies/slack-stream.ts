import type { WebClient } from '@slack/web-api';
import type { ReplyChannel } from '../../core/conversation.ts';
import type { AnswerStream, AnswerStreams, AnswerStreamTarget, StreamResume } from './answer-stream.ts';
import { isAssistantThread } from './slack-assistant-status.ts';
import { createSlackCaller, slackErrorCode, type SlackCallerOptions } from './slack-client.ts';
import { feedbackBlock } from './slack-messages.ts';
import type { PostedReplies } from '../../store/posted-replies.ts';
import { markId, replyMetadata, type ReplyMark } from './slack-thread.ts';
import { heldBack, safeStreamText } from './stream-safety.ts';

export interface SlackAnswerStreamOptions {
  client: WebClient;
  /** Characters gathered before an append (the stream itself starts with the first): fewer, larger calls. @default 256 */
  bufferChars?: number;
  /** Least time between two appends to one stream (`chat.appendStream` is tier 4). @default 1000 ms */
  minAppendIntervalMs?: number;
  /**
   * Age after which a stream is not appended to any more (Slack closes streams after about
   * five minutes); the rest of the answer lands through `chat.update`. @default 270000 ms
   */
  streamLimitMs?: number;
  /** Longest text one message takes; beyond it the answer is left to the answer step. @default 12000 */
  maxStreamChars?: number;
  rateLimits?: SlackCallerOptions;
  /** Signs the feedback buttons under a streamed answer (`APPROVAL_TOKEN_SECRET`, another purpose). @default no buttons */
  feedbackTokenSecret?: string;
  /** Let streamed text mention people and groups; broadcasts and unsafe links are never let through. @default false */
  allowMentions?: boolean;
  /** Where the streamed answer's ts is recorded by its mark, as the reply adapter's `posted`. @default none */
  posted?: PostedReplies;
  /** @default Date.now */
  now?: () => number;
}

/** The mark of a streamed answer: the answer step sees it and only finalises. */
export const STREAM_ROLE = 'stream';

type SlackChannel = Extract<ReplyChannel, { kind: 'slack' }>;

/** Where an answer can stream: a DM thread, or a channel thread whose turn names who asked (Slack needs a recipient there). */
export function canStream(channel: SlackChannel): boolean {
  return channel.threadTs !== '' && (isAssistantThread(channel) || channel.recipientUserId !== undefined);
}

/**
 * Answers streamed into Slack with `chat.startStream` / `appendStream` / `stopStream`, in DM
 * threads and in channel threads (to the person who asked, `recipient_user_id`). Streamed text
 * is made safe as a posted answer is (`stream-safety.ts`). A stream is marked with the turn's key when it stops; a retried attempt
 * (`resume`) never starts a second message: it finishes the first one with `chat.update`.
 */
export function createSlackAnswerStreams(options: SlackAnswerStreamOptions): AnswerStreams {
  const { client } = options;
  const now = options.now ?? Date.now;
  const bufferChars = options.bufferChars ?? 256;
  const minInterval = options.minAppendIntervalMs ?? 1000;
  const streamLimitMs = options.streamLimitMs ?? 270_000;
  const maxStreamChars = options.maxStreamChars ?? 12_000;
  const callSlack = createSlackCaller({ now, ...options.rateLimits });
  const allowMentions = options.allowMentions === true;

  return {
    open({ channel, key }: AnswerStreamTarget, resume?: StreamResume): AnswerStream | undefined {
      if (channel.kind !== 'slack' || !canStream(channel)) return undefined;
      return openStream(channel, key, resume);
    },
  };

  function openStream(channel: SlackChannel, key: string, resume: StreamResume | undefined): AnswerStream {
    let ts = resume?.ts;
    /** Appending is over: an earlier attempt's message, a stream past its limit, or one Slack closed. */
    let appendable = resume === undefined;
    let startedAt = 0;
    let lastAppendAt = Number.NEGATIVE_INFINITY;
    let text = '';
    let pending = '';
    let failed = false;

    async function flush(force: boolean): Promise<void> {
      if (!appendable || pending === '' || failed) return;
      // The first characters start the stream at once (what a person waits for); later ones are
      // gathered into fewer, larger appends.
      const started = ts !== undefined;
      if (!force && started && (pending.length < bufferChars || now() - lastAppendAt < minInterval)) return;
      if (text.length > maxStreamChars) return void (appendable = false);
      // Held back: what the next chunk could complete into a mention or a link.
      const [ready, rest] = force ? [pending, ''] : heldBack(pending);
      if (ready === '') return;
      const chunk = safeStreamText(ready, allowMentions);
      pending = rest;
      const recipient = isAssistantThread(channel)
        ? {}
        : { recipient_user_id: channel.recipientUserId as string, recipient_team_id: channel.teamId };
      try {
        if (ts === undefined) {
          const started = await callSlack('chat.startStream', () =>
            client.chat.startStream({ channel: channel.channelId, thread_ts: channel.threadTs, markdown_text: chunk, ...recipient }),
          );
          if (!started.ts) throw new Error('Slack chat.startStream answered without a ts');
          ts = started.ts;
          startedAt = now();
        } else if (now() - startedAt > streamLimitMs) {
          appendable = false;
        } else {
          await callSlack('chat.appendStream', () =>
            client.chat.appendStream({ channel: channel.channelId, ts: ts as string, markdown_text: chunk }),
          );
          // Only appends are spaced: the start does not delay the first full buffer.
          lastAppendAt = now();
        }
      } catch (error) {
        if (ts !== undefined && slackErrorCode(error) === 'message_not_in_streaming_state') return void (appendable = false);
        // Streaming is a courtesy: when Slack will not take it, the answer step posts the answer whole.
        if (ts === undefined) failed = true;
        else appendable = false;
      }
    }

    /** Closes an open stream; one Slack already closed (its limit, an earlier attempt) is fine. */
    async function stop(metadata?: ReturnType<typeof replyMetadata>, rest = ''): Promise<boolean> {
      const feedback =
        metadata?.event_payload.role === STREAM_ROLE && options.feedbackTokenSecret
          ? feedbackBlock(key, options.feedbackTokenSecret, now)
          : undefined;
      try {
        await callSlack('chat.stopStream', () =>
          client.chat.stopStream({
            channel: channel.channelId,
            ts: ts as string,
            ...(rest ? { markdown_text: safeStreamText(rest, allowMentions) } : {}),
            ...(metadata ? { metadata } : {}),
            ...(feedback ? { blocks: [feedback as never] } : {}),
          }),
        );
        return true;
      } catch (error) {
        if (slackErrorCode(error) === 'message_not_in_streaming_state') return false;
        throw error;
      }
    }

    return {
      progress: () => (ts === undefined ? undefined : { ts }),

      async append(more) {
        text += more;
        pending += more;
        await flush(false);
      },

      async finish(final) {
        if (ts === undefined) {
          // Never started (all of it held back, or Slack refused): the answer step posts it.
          return;
        }
        const mark: ReplyMark = { key, role: final ? STREAM_ROLE : 'note', part: 0 };
        const metadata = replyMetadata(mark);
        // The answer step looks for this mark: claimed before Slack marks the message, recorded after.
        const id = markId(channel.channelId, channel.threadTs, mark);
        if (final) await options.posted?.claim(id);
        await finishMarked(mark, metadata);
        if (final) await options.posted?.record(id, ts);
      },
    };

    async function finishMarked(mark: ReplyMark, metadata: ReturnType<typeof replyMetadata>): Promise<void> {
      const final = mark.role === STREAM_ROLE;
      if (appendable && !failed) {
        const rest = pending;
        pending = '';
        if (await stop(metadata, rest)) return;
      } else {
        await stop();
      }
      // The message holds part of this answer, or an earlier attempt's: it becomes the whole answer,
      // with the feedback buttons a streamed answer ends with (a markdown block: markdown_text takes no blocks).
      const whole =
        text.trim() === '' ? '_(The answer moved on: see below.)_' : safeStreamText(text.slice(0, maxStreamChars), allowMentions);
      const feedback = final && options.feedbackTokenSecret ? feedbackBlock(key, options.feedbackTokenSecret, now) : undefined;
      await callSlack('chat.update', () =>
        client.chat.update(
          feedback
            ? {
                channel: channel.channelId,
                ts: ts as string,
                text: whole,
                blocks: [{ type: 'markdown', text: whole } as never, feedback as never],
                metadata,
              }
            : { channel: channel.channelId, ts: ts as string, markdown_text: whole, metadata },
        ),
      );
    }
  }
}
