import type {
  ApprovalDecision,
  ConversationContext,
  ConversationStart,
  FeedbackRequest,
  IncomingMessage,
  ReplyChannel,
  StopRequest,
  ViewContextChange,
} from '../../core/conversation.ts';
import {
  APPROVAL_TOKEN_PURPOSE,
  approvalTokenClaimsSchema,
  bareMessageId,
  FEEDBACK_TOKEN_PURPOSE,
  feedbackTokenClaimsSchema,
  slackViewContextId,
  type InboundEvent,
} from '../../events/inbound-event.ts';
import { verifyToken } from '../../events/signed-token.ts';
import { parseEmailApprovalReply, type EmailApprovalReply } from '../../events/email-approval.ts';
import type { DispatchSettings } from '../../config/dispatcher-settings.ts';

/** What one event asks of Temporal. */
export type DispatchAction =
  | {
      type: 'message';
      conversationId: string;
      start: ConversationStart;
      message: IncomingMessage;
      /** An email reply that reads like `APPROVE <code>`: a decision if the code matches a pending request. */
      emailApproval?: EmailApprovalReply;
      /** A Slack DM message: the sender's view context (`viewContext` workflow id), handed to the conversation first. */
      viewContextId?: string;
    }
  | { type: 'view-context'; workflowId: string; change: ViewContextChange }
  | { type: 'approval'; conversationId: string; updateId: string; decision: ApprovalDecision }
  | { type: 'stop'; conversationId: string; updateId: string; request: StopRequest }
  | { type: 'feedback'; conversationId: string; updateId: string; feedback: FeedbackRequest }
  | { type: 'context'; conversationId: string; updateId: string; start: ConversationStart; context: ConversationContext };

/** An event that can never be delivered: logged and acknowledged, never retried. */
export class UndeliverableEvent extends Error {
  override name = 'UndeliverableEvent';
}

/**
 * Decides what an event asks for, without touching Temporal: the agent (the event's, or the
 * default), the conversation, the reply channel, and for approvals a second check of the
 * signed token (the ingress checked it; the dispatcher trusts no queue).
 */
export function routeEvent(
  event: InboundEvent,
  config: Pick<DispatchSettings, 'APPROVAL_TOKEN_SECRET' | 'DISPATCH_DEFAULT_AGENT' | 'DISPATCH_AGENTS' | 'EMAIL_AGENT_DOMAIN'>,
  now: () => number = Date.now,
): DispatchAction {
  const conversationId = event.conversationId;
  if (event.kind === 'approval') {
    const approval = event.approval!;
    const verified = verifyToken(approval.token, config.APPROVAL_TOKEN_SECRET, { purpose: APPROVAL_TOKEN_PURPOSE, now });
    if (!verified.ok) throw new UndeliverableEvent(`approval token rejected: ${verified.reason}`);
    const claims = approvalTokenClaimsSchema.safeParse(verified.claims);
    if (!claims.success) throw new UndeliverableEvent('approval token names no request');
    if (claims.data.requestId !== approval.requestId || claims.data.conversationId !== conversationId) {
      throw new UndeliverableEvent('approval token names another request or conversation than the event');
    }
    return {
      type: 'approval',
      conversationId,
      updateId: event.id,
      decision: { requestId: approval.requestId, decision: approval.decision, approver: approval.approver },
    };
  }
  if (event.kind === 'feedback') {
    const feedback = event.feedback!;
    const verified = verifyToken(feedback.token, config.APPROVAL_TOKEN_SECRET, { purpose: FEEDBACK_TOKEN_PURPOSE, now });
    if (!verified.ok) throw new UndeliverableEvent(`feedback token rejected: ${verified.reason}`);
    const claims = feedbackTokenClaimsSchema.safeParse(verified.claims);
    if (
      !claims.success ||
      claims.data.conversationId !== conversationId ||
      claims.data.turn !== feedback.turn ||
      claims.data.value !== feedback.value
    ) {
      throw new UndeliverableEvent('feedback token names another conversation, turn or value than the event');
    }
    return {
      type: 'feedback',
      conversationId,
      updateId: event.id,
      feedback: { turn: feedback.turn, value: feedback.value, by: event.user.id },
    };
  }
  if (event.kind === 'stop')
    return {
      type: 'stop',
      conversationId,
      updateId: event.id,
      request: { by: event.user.id, ...(event.nativeStop ? { answerRefusal: true } : {}) },
    };
  if (event.kind === 'context' && conversationId.startsWith('slack-view:')) {
    const context = event.context!;
    return {
      type: 'view-context',
      workflowId: conversationId,
      change: { id: event.id, at: event.receivedAt, context: { ...context, by: event.user.id } as ConversationContext },
    };
  }

  const agent = (event.agent ?? config.DISPATCH_DEFAULT_AGENT).toLowerCase();
  if (config.DISPATCH_AGENTS.length > 0 && !config.DISPATCH_AGENTS.includes(agent)) {
    throw new UndeliverableEvent(`agent "${agent}" is not in DISPATCH_AGENTS`);
  }
  const channel = replyChannelOf(event, agent, config.EMAIL_AGENT_DOMAIN);
  if (event.kind === 'context') {
    return {
      type: 'context',
      conversationId,
      updateId: event.id,
      start: { conversationId, agent, channel },
      context: { ...event.context!, by: event.user.id } as ConversationContext,
    };
  }
  const emailApproval = event.source === 'email' ? parseEmailApprovalReply(event.text) : undefined;
  return {
    type: 'message',
    conversationId,
    start: { conversationId, agent, channel },
    message: {
      id: event.id,
      text: withAttachments(event),
      user: event.user,
      receivedAt: event.receivedAt,
      ...(channel.kind === 'email' ? { channel } : {}),
    },
    ...(emailApproval ? { emailApproval } : {}),
    ...(event.slack?.channelId.startsWith('D') ? { viewContextId: slackViewContextId(event.slack.teamId, event.user.id) } : {}),
  };
}

/**
 * Where the answer goes. Email: to the sender, from the agent's own address, threaded under
 * the message; `references[0]` is always the conversation's root, from which the reply
 * adapter signs the Reply-To token.
 */
export function replyChannelOf(event: InboundEvent, agent: string, emailAgentDomain?: string): ReplyChannel {
  if (event.source === 'slack') {
    const slack = event.slack!;
    const threadTs = slack.threadTs ?? slack.ts;
    if (!threadTs) throw new UndeliverableEvent('Slack event names no thread to answer in');
    return { kind: 'slack', teamId: slack.teamId, channelId: slack.channelId, threadTs };
  }
  const email = event.email!;
  const root = event.conversationId.startsWith('email:')
    ? event.conversationId.slice('email:'.length)
    : bareMessageId(email.references[0] ?? email.messageId);
  return {
    kind: 'email',
    from: agentAddress(agent, email.agentAddress, emailAgentDomain),
    to: [email.from],
    subject: email.subject,
    inReplyTo: email.messageId,
    references: [root, ...email.references.filter((id) => id !== root)],
  };
}

/**
 * The address a reply comes from: the agent's on the configured domain; without one, the
 * agent's address as SES received the message (its receipt's recipient, a domain its rule
 * accepts). Never the To header: the sender writes it, and could name another verified
 * domain of the company for the reply to be signed as.
 */
function agentAddress(agent: string, received: string | undefined, domain?: string): string {
  if (domain) return `${agent}@${domain}`;
  const match = received === undefined ? null : /^([^@+\s]+)@([^@\s]+)$/.exec(received.trim().toLowerCase());
  if (match && match[1] === agent) return `${agent}@${match[2]}`;
  throw new UndeliverableEvent(`the agent "${agent}" has no address to reply from: set EMAIL_AGENT_DOMAIN`);
}

/** The message text, with a line per stored email attachment so the agent knows it is there. */
function withAttachments(event: InboundEvent): string {
  const attachments = event.email?.attachments ?? [];
  if (attachments.length === 0) return event.text;
  const lines = attachments.map(
    (attachment) =>
      `- ${attachment.filename} (${attachment.contentType}, ${attachment.size} bytes${attachment.ref ? `, stored as ${attachment.ref}` : ''})`,
  );
  return `${event.text}\n\n[Attachments]\n${lines.join('\n')}`;
}
