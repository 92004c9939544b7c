import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { listSchedules, pauseSchedule, triggerSchedule, unpauseSchedule, UnknownScheduleError } from '../temporal-client/schedules.ts';
import type { AgentDefinition } from '../authoring/define-agent.ts';
import { slackConversationId } from '../events/inbound-event.ts';
import { TURNS_QUERY, type TurnSummary } from '../core/conversation.ts';
import { slackSignature } from '../functions/slack/slack-signature.ts';
import { evalRoutes, type EvalRoutesOptions } from '../eval/console-routes.ts';
import { addCodecRoutes } from './codec-routes.ts';
import { consoleGuard, newConsoleToken } from './console-guard.ts';
import type { EmailStandIn } from './email-stand-in.ts';
import { serveOnNode } from './node-server.ts';
import { failureOf } from './run-failure.ts';
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
  /** Where the Evals pane reads eval runs and their transcripts. @default none: the pane lists no runs */
  evals?: EvalRoutesOptions;
  /** The installation's name in schedule ids (`AGENTS_DEPLOYMENT`). @default the task queue */
  deployment?: string | undefined;
  agents: AgentDefinition[];
  temporalUiUrl?: string;
  offline: boolean;
  /** The token every `/api/` request must carry. @default a new random token */
  token?: string;
  /** The stack's payload codec, served at `/codec/encode` and `/codec/decode` for the Web UI. @default none */
  codec?: PayloadCodec;
}

export interface ConsoleServer {
  /** The console's origin, `http://127.0.0.1:PORT`. */
  url: string;
  /** This start's token: `/api/` requests carry it in the `x-console-token` header. */
  token: string;
  /** The address to open: the page, with the token it keeps and sends. */
  openUrl: string;
  /** The codec endpoint to give the Temporal Web UI (its token in the path). */
  codecEndpoint: string;
  close(): Promise<void>;
}

const STATIC_FILES: Record<string, string> = {
  '/': 'index.html',
  '/console.js': 'console.js',
  '/console.css': 'console.css',
  '/evals.js': 'evals.js',
};
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
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
  const token = options.token ?? newConsoleToken();
  let listeningPort = options.port;
  const app = new Hono();
  app.use(consoleGuard({ token, port: () => listeningPort, host: options.host, codecOrigins: webUiOrigins(options.temporalUiUrl) }));
  const consoleDirectory = new URL('../console/', import.meta.url);

  for (const [path, file] of Object.entries(STATIC_FILES)) {
    app.get(path, async (c) => {
      const body = await readFile(new URL(file, consoleDirectory), 'utf8');
      return c.body(body, 200, { 'content-type': CONTENT_TYPES[file.split('.').pop()!]!, 'cache-control': 'no-store' });
    });
  }

  if (options.codec) addCodecRoutes(app, options.codec);

  const workflowUrl = (workflowId: string) =>
    options.temporalUiUrl
      ? `${options.temporalUiUrl}/namespaces/${encodeURIComponent(options.namespace)}/workflows/${encodeURIComponent(workflowId)}`
      : undefined;

  app.get('/api/state', (c) =>
    c.json({
      workspace,
      channels: CHANNELS,
      offline: options.offline,
      temporalUiUrl: options.temporalUiUrl ?? null,
      // For the Web UI's "Codec Server" setting: it then shows the payloads decrypted.
      codecEndpoint: options.codec ? `http://${options.host}:${listeningPort}/codec/${token}` : null,
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

  // A thread's cost: the sum of its turns' (the conversation's `turns` query); none before its first turn.
  app.get('/api/thread-cost', async (c) => {
    const conversationId = slackConversationId(workspace.teamId, c.req.query('channel') ?? '', c.req.query('thread') ?? '');
    const turns = await options.client.workflow
      .getHandle(conversationId)
      .query<TurnSummary[]>(TURNS_QUERY)
      .catch(() => [] as TurnSummary[]);
    const cost = turns.reduce((sum, turn) => sum + (turn.usage?.cost ?? 0), 0);
    const tokens = turns.reduce((sum, turn) => sum + (turn.usage?.totalTokens ?? 0), 0);
    return c.json({ turns: turns.length, cost: Math.round(cost * 1_000_000) / 1_000_000, tokens });
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
    const input = (await jsonBody(c)) as { channel?: string; text?: string; threadTs?: string };
    const text = input.text?.trim() ?? '';
    if (!input.channel || !text) return c.json({ ok: false, error: 'channel and text are required' }, 400);
    const ts = slack.addUserMessage({
      channel: input.channel,
      user: workspace.userId,
      text,
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
    });
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
    const input = (await jsonBody(c)) as { channel?: string; messageTs?: string; threadTs?: string; actionId?: string; value?: string };
    if (!input.channel || !input.messageTs || !input.actionId || !input.value)
      return c.json({ ok: false, error: 'channel, messageTs, actionId and value are required' }, 400);
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
    const outcome = await signedPost(
      '/slack/interactivity',
      new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
      'application/x-www-form-urlencoded',
    );
    return c.json({ ok: outcome.ok, edge: outcome }, outcome.ok ? 200 : 502);
  });

  // The stop button of a thread's agent session: Slack stops the app's streams there and sends agent_session_stopped.
  app.post('/api/slack/stop', async (c) => {
    const input = (await c.req.json()) as { channel?: string; threadTs?: string };
    if (!input.channel || !input.threadTs) return c.json({ ok: false, error: 'channel and threadTs are required' }, 400);
    const streamingMessageTs = slack.clickStop(input.channel, input.threadTs);
    const envelope = agentSessionStoppedEnvelope(workspace, {
      eventId: `EvStop${Date.now()}`,
      user: workspace.userId,
      channel: input.channel,
      threadTs: input.threadTs,
      streamingMessageTs,
    });
    const outcome = await signedPost('/slack/events', JSON.stringify(envelope), 'application/json');
    return c.json({ ok: outcome.ok, edge: outcome }, outcome.ok ? 200 : 502);
  });

  app.post('/api/mail', async (c) => {
    const input = (await jsonBody(c)) as { from?: string; to?: string; subject?: string; text?: string; inReplyTo?: string };
    if (!input.from || !input.to || !(input.text?.trim() || input.subject?.trim()))
      return c.json({ ok: false, error: 'from, to and a subject or text are required' }, 400);
    const message = await email.compose({
      from: input.from,
      to: input.to,
      subject: input.subject ?? '',
      text: input.text ?? '',
      ...(input.inReplyTo ? { inReplyTo: input.inReplyTo } : {}),
    });
    return c.json({ ok: message.outcome === 'queued', message });
  });

  app.get('/api/schedules', async (c) => {
    const rows = await listSchedules({
      client: options.client,
      agents: options.agents,
      taskQueue: options.taskQueue,
      ...(options.deployment ? { deployment: options.deployment } : {}),
      resultTimeoutMs: 500,
    });
    const withLinks = await Promise.all(
      rows.map(async (row) => {
        const last = (
          await options.client.schedule
            .getHandle(row.id)
            .describe()
            .catch(() => undefined)
        )?.info.recentActions.at(-1);
        const lastWorkflowId = last?.action.workflow.workflowId;
        const lastReason = last && row.lastOutcome === 'failed' ? await failureOf(options.client, last.action.workflow) : undefined;
        return {
          ...row,
          ...(lastReason ? { lastReason } : {}),
          scheduleUrl: options.temporalUiUrl
            ? `${options.temporalUiUrl}/namespaces/${encodeURIComponent(options.namespace)}/schedules/${encodeURIComponent(row.id)}`
            : null,
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

  // The Evals pane: runs of npm run eval and their transcripts.
  if (options.evals) app.route('/api/evals', evalRoutes(options.evals));
  else app.get('/api/evals', (c) => c.json({ runs: [] }));

  app.onError((error, c) =>
    error instanceof BadJsonError ? c.json({ ok: false, error: error.message }, 400) : c.json({ ok: false, error: error.message }, 500),
  );

  async function signedPost(
    path: string,
    body: string,
    contentType: string,
  ): Promise<{ ok: boolean; status: number; outcome: string | null; error?: string }> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const response = await fetch(`${options.edgeUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(options.signingSecret, timestamp, body),
      },
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
      throw new StartupError(
        `Port ${options.port} is in use (another npm start?). Stop that program, or set CONSOLE_PORT to a free port (0 picks one).`,
      );
    }
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  listeningPort = port;
  const url = `http://${options.host}:${port}`;
  return {
    url,
    token,
    openUrl: `${url}/?token=${token}`,
    codecEndpoint: `${url}/codec/${token}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Web UI's origin under each loopback name, as a person may open it by either. */
function webUiOrigins(temporalUiUrl: string | undefined): string[] {
  if (!temporalUiUrl) return [];
  const url = new URL(temporalUiUrl);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'];
  if (!loopback.includes(url.hostname)) return [url.origin];
  return loopback.map((name) => `${url.protocol}//${name}${url.port ? `:${url.port}` : ''}`);
}

class BadJsonError extends Error {}

async function jsonBody(c: Context): Promise<unknown> {
  const body = await c.req.json().catch(() => {
    throw new BadJsonError('the body is not JSON');
  });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadJsonError('the body must be a JSON object');
  return body;
}
