import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { InboundEvent } from '../../events/inbound-event.ts';
import type { EventQueue } from '../shared/event-queue.ts';
import { jsonLog, type Log } from '../shared/log.ts';
import { newEdgeTrace } from '../../telemetry/traceparent.ts';
import { rawBody, type IngressVariables } from './raw-body.ts';
import { parseFormBody, parseJsonBody } from './request-body.ts';
import type { SlackEdgeSettings } from '../../config/slack-edge-settings.ts';
import { commandEvent, commandFailureText, commandRootText, normaliseSlackCommand } from './slack-commands.ts';
import type { PostRootMessage, SetSuggestedPrompts } from './slack-post.ts';
import { normaliseSlackEvent } from './slack-events.ts';
import { normaliseSlackInteraction } from './slack-interactivity.ts';
import { verifySlackSignature } from './slack-signature.ts';

export interface SlackAppDependencies {
  config: SlackEdgeSettings;
  queue: EventQueue;
  /**
   * Posts a slash command's root message (`createSlackPoster`); without it commands are
   * answered with a note to mention the app instead.
   */
  postRootMessage?: PostRootMessage;
  /**
   * Sets a new assistant thread's suggested prompts (`createSuggestedPromptsSetter`), when
   * `SLACK_SUGGESTED_PROMPTS` names some; without either, Slack shows the manifest's prompts.
   */
  setSuggestedPrompts?: SetSuggestedPrompts;
  /** @default jsonLog */
  log?: Log;
  /** Clock, in milliseconds. @default Date.now */
  now?: () => number;
}

type IngressContext = Context<{ Variables: IngressVariables }>;

/**
 * The Slack edge: verify, normalise, queue, answer. Nothing here waits on an agent; the 200
 * means "SQS holds it", and a 503 means it does not, so Slack retries.
 */
export function createSlackApp(dependencies: SlackAppDependencies) {
  const { config, queue } = dependencies;
  const log = dependencies.log ?? jsonLog;
  const now = dependencies.now ?? Date.now;
  const readBody = rawBody({ maxBytes: config.INGRESS_MAX_BODY_BYTES });
  const verify = verifySlackSignature({
    signingSecret: config.SLACK_SIGNING_SECRET,
    toleranceSeconds: config.SLACK_TIMESTAMP_TOLERANCE_SECONDS,
    now,
  });

  async function enqueue(c: IngressContext, event: InboundEvent): Promise<void> {
    // The trace starts here, by hand: the dispatcher records this span and continues it.
    const trace = newEdgeTrace(c.var.receivedAt ?? now());
    try {
      await queue.send(event, trace);
    } catch (error) {
      log({ msg: 'queue refused event', id: event.id, error: (error as Error).name, detail: (error as Error).message });
      throw new HTTPException(503, { message: 'queue unavailable; the event was not accepted, retry later' });
    }
    const retry = c.req.header('x-slack-retry-num');
    log({
      msg: 'queued',
      id: event.id,
      kind: event.kind,
      conversationId: event.conversationId,
      traceId: trace.traceparent.slice(3, 35),
      ...(retry ? { slackRetry: retry } : {}),
    });
    c.header('x-ingress-outcome', 'queued');
  }

  function dropped(c: IngressContext, reason: string): void {
    log({ msg: 'dropped', path: c.req.path, reason });
    c.header('x-ingress-outcome', `dropped: ${reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}`);
  }

  /**
   * The one event answered here rather than through the queue: Slack shows the prompts while
   * the thread is empty, so they must be set now, and nothing about them needs a workflow. A
   * refusal is logged and acknowledged: Slack's retry would not change it.
   */
  async function suggestPrompts(c: IngressContext, where: { channelId: string; threadTs?: string }): Promise<void> {
    const prompts = config.SLACK_SUGGESTED_PROMPTS ?? [];
    if (prompts.length === 0 || !dependencies.setSuggestedPrompts)
      return dropped(c, 'no suggested prompts configured (SLACK_SUGGESTED_PROMPTS and the bot token)');
    const result = await dependencies.setSuggestedPrompts(where, prompts);
    if (!result.ok) return dropped(c, `suggested prompts not set: ${result.error}`);
    log({
      msg: 'suggested prompts set',
      channel: where.channelId,
      ...(where.threadTs ? { threadTs: where.threadTs } : {}),
      prompts: prompts.length,
    });
    c.header('x-ingress-outcome', 'prompts-set');
  }

  const app = new Hono<{ Variables: IngressVariables }>();

  app.use(async function receivedAt(c, next) {
    c.set('receivedAt', now());
    await next();
  });
  app.get('/health', (c) => c.json({ ok: true }));

  app.post('/slack/events', readBody, verify, async (c) => {
    const outcome = normaliseSlackEvent(parseJsonBody(c.var.rawBody), {
      defaultAgent: config.SLACK_DEFAULT_AGENT,
      botUserId: config.SLACK_BOT_USER_ID,
      now,
    });
    if (outcome.type === 'challenge') return c.json({ challenge: outcome.challenge });
    if (outcome.type === 'dropped') {
      dropped(c, outcome.reason);
      return c.json({ ok: true });
    }
    if (outcome.type === 'agent-home') {
      // agent_view: the DM has no thread yet; the prompts sit at the top of it.
      await suggestPrompts(c, { channelId: outcome.home.channelId });
      return c.json({ ok: true });
    }
    if (outcome.type === 'assistant-thread') {
      await suggestPrompts(c, { channelId: outcome.thread.channelId, threadTs: outcome.thread.threadTs });
      if (outcome.event) await enqueue(c, outcome.event);
      return c.json({ ok: true });
    }
    await enqueue(c, outcome.event);
    return c.json({ ok: true });
  });

  app.post('/slack/interactivity', readBody, verify, async (c) => {
    const outcome = normaliseSlackInteraction(parseFormBody(c.var.rawBody), { approvalTokenSecret: config.APPROVAL_TOKEN_SECRET, now });
    if (outcome.type === 'dropped') dropped(c, outcome.reason);
    else await enqueue(c, outcome.event);
    return c.body(null, 200);
  });

  app.post('/slack/commands', readBody, verify, async (c) => {
    const outcome = normaliseSlackCommand(parseFormBody(c.var.rawBody));
    if (outcome.type === 'ssl-check') return c.body(null, 200);
    if (outcome.type === 'reply') return c.json({ response_type: 'ephemeral', text: outcome.text });
    if (!dependencies.postRootMessage) {
      dropped(c, 'slash commands need SLACK_BOT_TOKEN at the edge');
      return c.json({ response_type: 'ephemeral', text: 'Commands are not set up here; mention me in a message instead.' });
    }
    const { command } = outcome;
    const root = await dependencies.postRootMessage(command.channel_id, commandRootText(command));
    if (!root.ok) {
      dropped(c, `command root message not posted: ${root.error}`);
      return c.json({ response_type: 'ephemeral', text: commandFailureText(root.error) });
    }
    await enqueue(c, commandEvent(command, root.ts, { defaultAgent: config.SLACK_DEFAULT_AGENT, now }));
    return c.body(null, 200);
  });

  for (const path of ['/slack/events', '/slack/interactivity', '/slack/commands']) {
    app.all(path, (c) => {
      c.header('allow', 'POST');
      throw new HTTPException(405, { message: `${c.req.method} is not allowed on ${c.req.path}; Slack sends POST` });
    });
  }
  app.notFound((c) => c.json({ ok: false, error: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      log({ msg: 'refused', path: c.req.path, status: error.status, reason: error.message });
      return c.json({ ok: false, error: error.message }, error.status);
    }
    log({ msg: 'ingress error', path: c.req.path, error: error.name, detail: error.message });
    return c.json({ ok: false, error: 'internal error' }, 500);
  });
  return app;
}
