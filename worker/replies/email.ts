import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { ApplicationFailure } from '@temporalio/common';
import type { ReplyChannel } from '../../core/conversation.ts';
import { mintReplyToken, participantAddress, replyTokenFits, type EmailThreadRecord } from '../../events/email-thread.ts';
import { emailConversationId } from '../../events/inbound-event.ts';
import { emailApprovalCode } from '../../events/email-approval.ts';
import { shownArguments } from './approval-arguments.ts';
import type { EmailThreadIndex } from '../../store/email-thread-index.ts';
import { buildReplyMime, plusAddress, replyMessageId } from './email-mime.ts';
import type { ApprovalRequest, ReplyAdapter, StartedThread, ThreadStart } from './reply-channel.ts';
import { addNewest } from '../../core/bounded.ts';

export interface EmailReplyAdapterOptions {
  ses: SESv2Client;
  /** Signs the Reply-To plus-address; the ingress verifies it (`EMAIL_REPLY_TOKEN_SECRET`). */
  replyTokenSecret: string;
  /**
   * Where each reply's thread record goes (who may continue the conversation); the email edge
   * reads it. Without it, replies carry no token and no reply joins a conversation.
   */
  threads?: Pick<EmailThreadIndex, 'putToken' | 'putMessage' | 'markSent' | 'wasSent'>;
  /** Makes the approval codes; the dispatcher checks them (`APPROVAL_TOKEN_SECRET`). */
  approvalSecret: string;
  /** Lifetime of the Reply-To token. @default 30 days */
  replyTokenLifetimeSeconds?: number;
  /** SES configuration set (event publishing, suppression). @default none */
  configurationSetName?: string;
  /** Replies remembered as sent, so a retried call does not send again. @default 10000 */
  maxRememberedReplies?: number;
  /** @default Date.now */
  now?: () => number;
}

type EmailChannel = Extract<ReplyChannel, { kind: 'email' }>;

/** SES errors no retry can fix. */
const PERMANENT_SES_ERRORS = new Set([
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'AccountSuspendedException',
  'SendingPausedException',
  'BadRequestException',
  'NotFoundException',
]);

/**
 * Replies by email through SES v2, in the thread: `In-Reply-To` and `References` name the
 * message answered, the subject gains one `Re:`, and `Reply-To` is the agent's address with a
 * signed token, so an answer comes back to this conversation whatever the mail client does
 * with the headers. Status updates are no-ops: mail is not for progress bars.
 *
 * SES takes no idempotency key, so replies sent are remembered by key: in process, and (with
 * `threads`) as a mark by Message-ID written as soon as SES accepts, so a retry on another
 * worker (the first died, or lost Temporal, before its activity completed) sends nothing.
 * A worker that dies between SES's answer and that mark can still send one reply twice; the
 * Message-ID is derived from the key so a mail client may fold the pair.
 */
export function createEmailReplyAdapter(options: EmailReplyAdapterOptions): ReplyAdapter {
  const now = options.now ?? Date.now;
  const maxRemembered = options.maxRememberedReplies ?? 10_000;
  const sent = new Set<string>();
  const inFlight = new Map<string, Promise<void>>();

  async function sendOnce(key: string, channel: EmailChannel, text: string, autoSubmitted?: 'auto-generated'): Promise<void> {
    if (sent.has(key)) return;
    const running = inFlight.get(key);
    if (running) return running;
    const sending = send(key, channel, text, autoSubmitted)
      .then(() => {
        addNewest(sent, key, maxRemembered);
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, sending);
    return sending;
  }

  /**
   * Records who the reply goes to, under its Message-ID and a fresh reply token, before it is
   * sent: a person answering within seconds finds the record. The Reply-To carries the token
   * when `agent+token` fits in a local part.
   */
  async function recordThread(key: string, channel: EmailChannel): Promise<{ token?: string; record?: EmailThreadRecord }> {
    if (!options.threads) return {};
    const at = channel.from.lastIndexOf('@');
    const agent = channel.from.slice(0, at).replace(/\+.*$/, '').toLowerCase();
    const record: EmailThreadRecord = {
      version: 1,
      conversationId: channel.conversationId ?? emailConversationId(channel.references[0] ?? channel.inReplyTo),
      agent,
      participants: [...new Set(channel.to.map(participantAddress))].slice(0, 50),
      expiresAt: Math.floor(now() / 1000) + (options.replyTokenLifetimeSeconds ?? 30 * 24 * 60 * 60),
    };
    await options.threads.putMessage(replyMessageId(key, channel.from), record);
    if (!replyTokenFits(agent)) return { record };
    const { token, id } = mintReplyToken(options.replyTokenSecret);
    await options.threads.putToken(id, record);
    return { token, record };
  }

  async function send(key: string, channel: EmailChannel, text: string, autoSubmitted?: 'auto-generated'): Promise<void> {
    const messageId = replyMessageId(key, channel.from);
    if (await options.threads?.wasSent(messageId)) return;
    const { token, record } = await recordThread(key, channel);
    const raw = buildReplyMime({
      ...channel,
      ...(token ? { replyTo: plusAddress(channel.from, token) } : {}),
      text,
      key,
      date: new Date(now()),
      ...(autoSubmitted ? { autoSubmitted } : {}),
    });
    let sesMessageId: string | undefined;
    try {
      const accepted = await options.ses.send(
        new SendEmailCommand({
          FromEmailAddress: channel.from,
          Destination: { ToAddresses: channel.to },
          Content: { Raw: { Data: Buffer.from(raw, 'utf8') } },
          ...(options.configurationSetName ? { ConfigurationSetName: options.configurationSetName } : {}),
        }),
      );
      sesMessageId = accepted.MessageId;
    } catch (error) {
      const name = (error as Error).name;
      if (PERMANENT_SES_ERRORS.has(name))
        throw ApplicationFailure.nonRetryable(`SES refused the reply: ${name}: ${(error as Error).message}`, 'EmailRefused');
      throw error;
    }
    // Sent: a failure to mark it must not fail the activity, whose retry would send it again;
    // the in-process memory still covers a retry here.
    await options.threads?.markSent(messageId, now()).catch(() => undefined);
    // SES replaces the Message-ID we wrote with its own: what recipients see, and what their
    // replies' In-Reply-To and References name. The thread is recorded under it too.
    if (sesMessageId && options.threads && record) {
      await options.threads.putMessage(sesHeaderMessageId(sesMessageId, await options.ses.config.region()), record).catch(() => undefined);
    }
  }

  return {
    async status(channel) {
      emailChannel(channel);
    },

    async answer(channel, key, text) {
      await sendOnce(`answer:${key}`, emailChannel(channel), text.trim() === '' ? '(The agent gave no answer.)' : text);
    },

    async requestApproval(channel, request: ApprovalRequest) {
      const code = emailApprovalCode(request.requestId, options.approvalSecret);
      await sendOnce(`approval:${request.requestId}`, emailChannel(channel), approvalText(request, code));
    },

    /**
     * A new email (an ambient run's result), threaded under `threadRoot` when given; its own
     * Message-ID names the conversation a reply continues.
     */
    async startThread(target: ThreadStart, key, text): Promise<StartedThread> {
      if (target.kind !== 'email')
        throw ApplicationFailure.nonRetryable(`The email reply adapter cannot start a ${target.kind} thread`, 'WrongReplyChannel');
      const sendKey = `thread:${key}`;
      const messageId = replyMessageId(sendKey, target.from);
      const root = target.threadRoot;
      const channel: EmailChannel = {
        kind: 'email',
        from: target.from,
        to: target.to,
        subject: target.subject,
        inReplyTo: root ?? '',
        references: root ? [root] : [],
        conversationId: emailConversationId(messageId),
      };
      await sendOnce(sendKey, channel, text.trim() === '' ? '(The agent gave no answer.)' : text, 'auto-generated');
      return { kind: 'email', messageId };
    },
  };
}

/** The request mail: the arguments whole (or no mail: see `shownArguments`), their digest, and the reply that decides. */
function approvalText(request: ApprovalRequest, code: string): string {
  const shown = shownArguments(request.tool, request.args);
  return [
    `Approval needed: the agent wants to run ${request.tool} with these arguments (SHA-256 ${shown.sha256}):`,
    '',
    shown.json,
    '',
    'Reply to this email with one line:',
    '',
    `    APPROVE ${code}`,
    '',
    'or',
    '',
    `    DENY ${code}`,
    '',
    `${request.approvers.length ? `May decide: ${request.approvers.join(', ')}. ` : ''}Without a decision by ${request.expiresAt}, the request is denied.`,
  ].join('\n');
}

function emailChannel(channel: ReplyChannel): EmailChannel {
  if (channel.kind !== 'email')
    throw ApplicationFailure.nonRetryable(`The email reply adapter cannot answer on a ${channel.kind} channel`, 'WrongReplyChannel');
  return channel;
}

/**
 * The Message-ID header SES writes in place of ours: the `MessageId` its API returned, at
 * `email.amazonses.com` in us-east-1 and `<region>.amazonses.com` elsewhere. SES documents
 * that it replaces a given Message-ID ("Amazon SES header fields"); the host part is what its
 * sent mail shows, not a documented contract, so threading never depends on it alone: the
 * Reply-To token and our own id's record stay.
 */
export function sesHeaderMessageId(messageId: string, region: string): string {
  return `${messageId}@${region === 'us-east-1' ? 'email' : region}.amazonses.com`;
}
