import { ApplicationFailure } from '@temporalio/common';
import type { WebClient } from '@slack/web-api';
import type { ReplyChannel } from '../../core/conversation.ts';
import type { TurnStatus } from './reply-channel.ts';
import { slackErrorCode, type SlackCaller } from './slack-client.ts';

/** The statuses of a Slack agent session (docs.slack.dev/ai/agent-sessions). */
export type AgentSessionStatus = 'processing' | 'active' | 'suspended' | 'closed';

/** Longest session title Slack takes. */
const MAX_TITLE_CHARS = 200;

/**
 * A turn's status as its thread's agent session shows it: working is `processing` (Slack shows
 * the stop button), waiting for a person is `suspended`, answered is `active`, and a stopped
 * turn or an ended conversation is `closed`.
 */
export function sessionStatus(status: TurnStatus): AgentSessionStatus {
  switch (status.state) {
    case 'thinking':
    case 'tool':
      return 'processing';
    case 'waiting_for_approval':
      return 'suspended';
    case 'done':
      return 'active';
    case 'stopped':
    case 'closed':
      return 'closed';
  }
}

/** Refusals meaning this app cannot have sessions at all (an `assistant_view` app): it keeps the assistant status. */
const NOT_AN_AGENT = new Set(['access_denied', 'not_allowed_token_type', 'missing_scope', 'unknown_method', 'method_deprecated']);

export interface AgentSessions {
  /** False once Slack said this app has no sessions. */
  available(): boolean;
  /** Sets the thread's session status; false when this app has no sessions (the caller shows the status another way). */
  set(channel: Pick<Extract<ReplyChannel, { kind: 'slack' }>, 'channelId' | 'threadTs'>, status: TurnStatus): Promise<boolean>;
}

/**
 * `agents.sessions.setStatus` for one app, and `agents.sessions.rename` for a session that has
 * no title yet. The first refusal that says the app is not an agent
 * turns sessions off for the process, so an app still on `assistant_view` pays one call.
 */
export function createAgentSessions(client: WebClient, callSlack: SlackCaller, enabled: boolean): AgentSessions {
  let available = enabled;

  /** `agents.sessions.rename`; a refusal leaves the session untitled rather than failing the status. */
  async function rename(channel: Pick<Extract<ReplyChannel, { kind: 'slack' }>, 'channelId' | 'threadTs'>, title: string): Promise<void> {
    try {
      await callSlack('agents.sessions.rename', () =>
        client.agents.sessions.rename({ channel_id: channel.channelId, thread_ts: channel.threadTs, title }),
      );
    } catch (error) {
      if (!(error instanceof ApplicationFailure && error.type === 'SlackRefused')) throw error;
    }
  }

  return {
    available: () => available,
    async set(channel, status) {
      if (!available || channel.threadTs === '') return false;
      const title = status.state === 'thinking' && status.title ? status.title.slice(0, MAX_TITLE_CHARS) : undefined;
      try {
        const set = await callSlack('agents.sessions.setStatus', () =>
          client.agents.sessions.setStatus({
            channel_id: channel.channelId,
            thread_ts: channel.threadTs,
            status: sessionStatus(status),
            ...(title ? { title } : {}),
          }),
        );
        // Slack takes setStatus's title only when it creates the session. One that existed
        // untitled (made by a status without a title) is named here; a titled one keeps its
        // title, the thread's first question or a person's rename.
        if (title && !set.title) await rename(channel, title);
        return true;
      } catch (error) {
        if (error instanceof ApplicationFailure && error.type === 'SlackRefused' && NOT_AN_AGENT.has(slackErrorCode(error) ?? '')) {
          available = false;
          return false;
        }
        throw error;
      }
    },
  };
}
