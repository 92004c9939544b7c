/** Who is who in a Slack workspace, as an Events API envelope names them. */
export interface SlackWorkspaceIds {
  teamId: string;
  botUserId: string;
  /** @default 'A0LOCALAPP' */
  appId?: string;
}

export interface MentionEvent {
  eventId: string;
  /** The person who wrote. */
  user: string;
  channel: string;
  ts: string;
  /** What follows the mention of the bot. */
  text: string;
  /** Set for a message in a thread. */
  threadTs?: string;
}

/**
 * The `event_callback` envelope Slack's Events API sends for an `app_mention`: what the
 * console, the fault harness and the end-to-end tests post (signed) to the Slack edge.
 */
export function appMentionEnvelope(workspace: SlackWorkspaceIds, mention: MentionEvent) {
  const { teamId, botUserId } = workspace;
  return {
    token: 'local',
    team_id: teamId,
    api_app_id: workspace.appId ?? 'A0LOCALAPP',
    type: 'event_callback',
    event_id: mention.eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: teamId, user_id: botUserId, is_bot: true }],
    event: {
      type: 'app_mention',
      user: mention.user,
      text: `<@${botUserId}> ${mention.text}`,
      ts: mention.ts,
      ...(mention.threadTs ? { thread_ts: mention.threadTs } : {}),
      channel: mention.channel,
      event_ts: mention.ts,
    },
  };
}

/**
 * The envelope of `agent_session_stopped`: a person clicked the stop button of the thread's
 * agent session, and Slack stopped the app's streams there (`streamingMessageTs`).
 */
export function agentSessionStoppedEnvelope(
  workspace: SlackWorkspaceIds,
  stop: { eventId: string; user: string; channel: string; threadTs: string; streamingMessageTs: string[] },
) {
  const eventTs = (Date.now() / 1000).toFixed(6);
  return {
    token: 'local',
    team_id: workspace.teamId,
    api_app_id: workspace.appId ?? 'A0LOCALAPP',
    type: 'event_callback',
    event_id: stop.eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: workspace.teamId, user_id: workspace.botUserId, is_bot: true }],
    event: {
      type: 'agent_session_stopped',
      channel: stop.channel,
      thread_ts: stop.threadTs,
      user: stop.user,
      event_ts: eventTs,
      streaming_message_ts: stop.streamingMessageTs,
    },
  };
}
