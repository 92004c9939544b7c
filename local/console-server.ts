import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { listSchedules, pauseSchedule, triggerSchedule, unpauseSchedule, UnknownScheduleError } from '../client/schedules.ts';
import type { AgentDefinition } from '../core/define-agent.ts';
import { slackConversationId } from '../core/inbound-event.ts';
import { slackSignature } from '../functions/slack/slack-signature.ts';
import type { EmailStandIn } from './email-stand-in.ts';
import { serveOnNode } from './node-server.ts';
import type { SlackApiServer } from './slack-api-server.ts';
import { agentSessionStoppedEnvelope, appMentionEnvelope } from './slack-events.ts';
import { StartupError } from './startup-error.ts';

export interface ConsoleServerOptions {
  port: number;
  host: string;
  slack: SlackApiServer;
  email: EmailStandIn;
  /** Fires `slack` and `mail` events with the message that changed. */
  events: EventTarget;
  /** The Slack edge's base URL; the console reaches it as Slack would, signed. */
  edgeUrl: string;
  signingSecret: string;
  workspace: { teamId: string; botUserId: string; userId: string; userName: string };
  agentDomain: string;
  client: Client;
  namespace: string;
  taskQueue: string;
  agents: AgentDefinition[];
  temporalUiUrl?: string;
  offline: boolean;
}

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

const STATIC_FILES: Record<string, string> = {
  '/': 'index.html',
  '/console.js': 'console.js',
  '/console.css': 'console.css',
};
const CONTENT_TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const CHANNELS = [
  { id: 'C0GENERAL', name: 'general' },
  { id: 'C0OPS', name: 'ops' },
  // Where the handbook digest (an ambient agent) posts.
  { id: 'C0HANDBOOK', name: 'handbook' },
];

/**
 * The console's server: the page (console/), the stand-ins' state and its changes as
 * server-sent events, and the actions a person takes, each sent the way the real system
 * receives it: a message is a signed Events API request to the Slack edge, a button click a
 * signed interactivity request, an email raw MIME through the email edge's parser.
 */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const { slack, email, workspace } = options;
  const app = new Hono();
  const consoleDirectory = new URL('../console/', import.meta.url);

  for (const [path, file] of Object.entries(STATIC_FILES)) {
    app.get(path, async (c) => {
      const body = await readFile(new URL(file, consoleDirectory), 'utf8');
      return c.body(body, 200, { 'content-type': CONTENT_TYPES[file.split('.').pop()!]!, 'cache-control': 'no-store' });
    });
  }

  const workflowUrl = (workflowId: string) =>
    options.temporalUiUrl ? `${options.temporalUiUrl}/namespaces/${encodeURIComponent(options.namespace)}/workflows/${encodeURIComponent(workflowId)}` : undefined;

  app.get('/api/state', (c) =>
    c.json({
      workspace,
      channels: CHANNELS,
      offline: options.offline,
      temporalUiUrl: options.temporalUiUrl ?? null,
      agentAddress: `assistant@${options.agentDomain}`,
      agents: options.agents.map((agent) => agent.name),
      slack: slack.allMessages(),
      sessions: slack.agentSessions(),
      mail: email.messages(),
    }),
  );

  app.get('/api/workflow-url', (c) => {
    const channel = c.req.query('channel') ?? '';
    const threadTs = c.req.query('thread') ?? '';
    return c.json({ url: workflowUrl(slackConversationId(workspace.teamId, channel, threadTs)) ?? null });
  });

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      const forward = (event: Event) => void stream.writeSSE({ event: event.type, data: JSON.stringify((event as CustomEvent).detail) });
      for (const type of ['slack', 'mail', 'session']) options.events.addEventListener(type, forward);
      stream.onAbort(() => {
        for (const type of ['slack', 'mail', 'session']) options.events.removeEventListener(type, forward);
      });
      await stream.writeSSE({ event: 'ready', data: '{}' });
      while (!stream.aborted) {
        await stream.sleep(15_000);
        await stream.writeSSE({ event: 'ping', data: '{}' });
      }
    }),
  );

  app.post('/api/slack/messages', async (c) => {
    const input = (await c.req.json()) as { channel?: string; text?: string; threadTs?: string };
    const text = input.text?.trim() ?? '';
    if (!input.channel || !text) return c.json({ ok: false, error: 'channel and text are required' }, 400);
    const ts = slack.addUserMessage({ channel: input.channel, user: workspace.userId, text, ...(input.threadTs ? { threadTs: input.threadTs } : {}) });
    const envelope = appMentionEnvelope(workspace, {
      eventId: `Ev${ts.replace('.', '')}`,
      user: workspace.userId,
      channel: input.channel,
      ts,
      text,
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
    });
    const outcome = await signedPost('/slack/events', JSON.stringify(envelope), 'application/json');
    return c.json({ ok: outcome.ok, ts, edge: outcome }, outcome.ok ? 200 : 502);
  });

  app.post('/api/slack/actions', async (c) => {
    const input = (await c.req.json()) as { channel?: string; messageTs?: string; threadTs?: string; actionId?: string; value?: string };
    if (!input.channel || !input.messageTs || !input.actionId || !input.value) return c.json({ ok: false, error: 'channel, messageTs, actionId and value are required' }, 400);
    const payload = {
      type: 'block_actions',
      user: { id: workspace.userId, username: workspace.userName, team_id: workspace.teamId },
      team: { id: workspace.teamId },
      channel: { id: input.channel },
      container: { type: 'message', channel_id: input.channel, message_ts: input.messageTs },
      message: { ts: input.messageTs, ...(input.threadTs ? { thread_ts: input.threadTs } : {}) },
      actions: [{ action_id: input.actionId, value: input.value, type: 'button' }],
      trigger_id: `local.${Date.now()}`,
    };
    const outcome = await signedPost('/slack/interactivity', new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded');
    return c.json({ ok: outcome.ok, edge: outcome }, outcome.ok ? 200 : 502);
  });

  // The stop button of a thread's agent session: Slack stops the app's streams there and sends agent_session_stopped.
  app.post('/api/slack/stop', async (c) => {
    const input = (await c.req.json()) as { channel?: string; threadTs?: string };
    if (!input.channel || !input.threadTs) return c.json({ ok: false, error: 'channel and threadTs are required' }, 400);
    const streamingMessageTs = slack.clickStop(input.channel, input.threadTs);
    const envelope = agentSessionStoppedEnvelope(workspace, { eventId: `EvStop${Date.now()}`, user: workspace.userId, channel: input.channel, threadTs: input.threadTs, streamingMessageTs });
    const outcome = await signedPost('/slack/events', JSON.stringify(envelope), 'application/json');
    return c.json({ ok: outcome.ok, edge: outcome }, outcome.ok ? 200 : 502);
  });

  app.post('/api/mail', async (c) => {
    const input = (await c.req.json()) as { from?: string; to?: string; subject?: string; text?: string; inReplyTo?: string };
    if (!input.from || !input.to || !(input.text?.trim() || input.subject?.trim())) return c.json({ ok: false, error: 'from, to and a subject or text are required' }, 400);
    const message = await email.compose({ from: input.from, to: input.to, subject: input.subject ?? '', text: input.text ?? '', ...(input.inReplyTo ? { inReplyTo: input.inReplyTo } : {}) });
    return c.json({ ok: message.outcome === 'queued', message });
  });

  app.get('/api/schedules', async (c) => {
    const rows = await listSchedules({ client: options.client, agents: options.agents, taskQueue: options.taskQueue, resultTimeoutMs: 500 });
    const withLinks = await Promise.all(
      rows.map(async (row) => {
        const last = (await options.client.schedule.getHandle(row.id).describe().catch(() => undefined))?.info.recentActions.at(-1);
        const lastWorkflowId = last?.action.workflow.workflowId;
        return {
          ...row,
          scheduleUrl: options.temporalUiUrl ? `${options.temporalUiUrl}/namespaces/${encodeURIComponent(options.namespace)}/schedules/${encodeURIComponent(row.id)}` : null,
          lastRunUrl: lastWorkflowId ? (workflowUrl(lastWorkflowId) ?? null) : null,
        };
      }),
    );
    return c.json({ schedules: withLinks });
  });

  app.post('/api/schedules/:id/:action', async (c) => {
    const id = c.req.param('id');
    const action = c.req.param('action');
    try {
      if (action === 'run') await triggerSchedule(options.client, id);
      else if (action === 'pause') await pauseSchedule(options.client, id, 'Paused from the console.');
      else if (action === 'unpause') await unpauseSchedule(options.client, id, 'Unpaused from the console.');
      else return c.json({ ok: false, error: `unknown action ${action}` }, 404);
    } catch (error) {
      if (error instanceof UnknownScheduleError) return c.json({ ok: false, error: error.message }, 404);
      throw error;
    }
    return c.json({ ok: true });
  });

  app.onError((error, c) => c.json({ ok: false, error: error.message }, 500));

  async function signedPost(path: string, body: string, contentType: string): Promise<{ ok: boolean; status: number; outcome: string | null; error?: string }> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const response = await fetch(`${options.edgeUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(options.signingSecret, timestamp, body) },
      body,
    });
    const text = await response.text();
    const error = response.ok ? undefined : ((JSON.parse(text || '{}') as { error?: string }).error ?? `HTTP ${response.status}`);
    return { ok: response.ok, status: response.status, outcome: response.headers.get('x-ingress-outcome'), ...(error ? { error } : {}) };
  }

  let server: Server;
  try {
    server = await serveOnNode(app, options.port, options.host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartupError(`Port ${options.port} is in use (another npm start?). Stop that program, or set CONSOLE_PORT to a free port (0 picks one).`);
    }
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
