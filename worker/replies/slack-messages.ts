import type { FeedbackValue } from '../../core/conversation.ts';
import { APPROVAL_ACTION_IDS, FEEDBACK_ACTION_ID, FEEDBACK_TOKEN_PURPOSE } from '../../events/inbound-event.ts';
import { signToken } from '../../events/signed-token.ts';
import { shownArguments } from './approval-arguments.ts';
import { escapeSlackText } from './markdown.ts';
import type { ApprovalEnded, ApprovalRequest, TurnStatus } from './reply-channel.ts';

/** How a turn's status reads in its Slack status message. */
export function statusText(status: TurnStatus): string {
  switch (status.state) {
    case 'thinking':
      return `:hourglass_flowing_sand: Thinking… (step ${status.step})`;
    case 'tool':
      if (status.output)
        return `${status.output.ok ? ':white_check_mark: Ran' : ':x: Failed to run'} \`${escapeSlackText(status.tool)}\` (step ${status.step})`;
      return `:hammer_and_wrench: Running \`${escapeSlackText(status.tool)}\` (step ${status.step})`;
    case 'waiting_for_approval':
      return `:raised_hand: Waiting for approval to run \`${escapeSlackText(status.tool)}\``;
    case 'done':
      return ':white_check_mark: Done';
    case 'stopped':
      return ':octagonal_sign: Stopped';
    case 'closed':
      return ':zzz: Conversation closed';
  }
}

/** Characters of one section's text: Slack takes 3,000, and the fence takes six. */
const MAX_SECTION_CHARS = 2_900;

/**
 * The call an approval request is about, as its message shows it: the tool, the digest of its
 * arguments, and the arguments whole, a code block per section. Nothing in a value can end a
 * block early (see `shownArguments`); arguments too long to show refuse the request instead.
 */
function requestedCall(request: ApprovalRequest, heading: string): Record<string, unknown>[] {
  const shown = shownArguments(request.tool, request.args);
  const pieces = slackPieces(escapeSlackText(shown.json), MAX_SECTION_CHARS);
  return [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${heading} run \`${escapeSlackText(request.tool)}\` with these arguments (SHA-256 \`${shown.sha256}\`):`,
      },
    },
    ...pieces.map((piece) => ({ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${piece}\`\`\`` } })),
  ];
}

/**
 * Escaped text cut into pieces of at most `max` characters: after a line end where it can
 * (the piece keeps it), else mid-line, never inside an `&…;` escape. The pieces joined are the text.
 */
function slackPieces(text: string, max: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (text.length - start > max) {
    let cut = text.lastIndexOf('\n', start + max - 1) + 1;
    if (cut <= start) {
      cut = start + max;
      const ampersand = text.lastIndexOf('&', cut - 1);
      if (ampersand > cut - 5 && text.indexOf(';', ampersand) >= cut) cut = ampersand;
    }
    pieces.push(text.slice(start, cut));
    start = cut;
  }
  pieces.push(text.slice(start));
  return pieces;
}

/** Block Kit of an approval request: what would run, who may decide, and two buttons carrying the signed token. */
export function approvalBlocks(request: ApprovalRequest, token: string): { text: string; blocks: unknown[] } {
  const approvers = request.approvers.length ? request.approvers.map(mention).join(', ') : 'the person who asked';
  const expires = Math.floor(Date.parse(request.expiresAt) / 1000);
  const expiry = Number.isFinite(expires)
    ? `<!date^${expires}^{date_short_pretty} {time}|${escapeSlackText(request.expiresAt)}>`
    : escapeSlackText(request.expiresAt);
  const tool = escapeSlackText(request.tool);
  return {
    text: `Approval needed: run ${tool}?`,
    blocks: [
      ...requestedCall(request, ':raised_hand: *Approval needed:*'),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `May decide: ${approvers}. Denied if nobody decides by ${expiry}.` }] },
      {
        type: 'actions',
        block_id: `approval:${request.requestId}`.slice(0, 255),
        elements: [
          {
            type: 'button',
            action_id: APPROVAL_ACTION_IDS.approve,
            style: 'primary',
            text: { type: 'plain_text', text: 'Approve' },
            value: token,
          },
          {
            type: 'button',
            action_id: APPROVAL_ACTION_IDS.deny,
            style: 'danger',
            text: { type: 'plain_text', text: 'Deny' },
            value: token,
          },
        ],
      },
    ],
  };
}

/** The same request once it ended: what was asked, how it ended, and no buttons. */
export function endedApprovalBlocks(request: ApprovalRequest, ended: ApprovalEnded): { text: string; blocks: unknown[] } {
  const tool = escapeSlackText(request.tool);
  const at = Math.floor(Date.parse(ended.at) / 1000);
  const when = Number.isFinite(at) ? ` <!date^${at}^{date_short_pretty} {time}|${escapeSlackText(ended.at)}>` : '';
  const [outcome, text] = ((): [string, string] => {
    switch (ended.outcome) {
      case 'approved':
        return [`:white_check_mark: Approved by ${mention(ended.by)}${when}: \`${tool}\` runs.`, `Approved: ${tool}`];
      case 'denied':
        return [`:no_entry: Denied by ${mention(ended.by)}${when}: \`${tool}\` did not run.`, `Denied: ${tool}`];
      case 'timed_out':
        return [`:hourglass: Nobody decided in time${when}: \`${tool}\` did not run.`, `Not decided in time: ${tool}`];
      case 'withdrawn':
        return [`:octagonal_sign: The turn ended before anyone decided${when}: \`${tool}\` did not run.`, `Withdrawn: ${tool}`];
    }
  })();
  return {
    text,
    blocks: [...requestedCall(request, '*Approval asked:*'), { type: 'context', elements: [{ type: 'mrkdwn', text: outcome }] }],
  };
}

/** Slack user ids become mentions; anything else (an email address) is shown as text. */
function mention(approver: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(approver) ? `<@${approver}>` : escapeSlackText(approver);
}

/** How long a feedback button is accepted after the answer. */
const FEEDBACK_LIFETIME_SECONDS = 30 * 24 * 60 * 60;

/**
 * Thumbs up and down under an answer (Slack's `feedback_buttons` in a `context_actions`
 * block), each carrying a signed token naming the conversation and turn: the turn's reply key
 * is `${conversationId}#${turn}`. Undefined for a key of another shape (an ambient run's).
 */
export function feedbackBlock(key: string, secret: string, now: () => number): Record<string, unknown> | undefined {
  const match = /^(.+)#(\d+)$/.exec(key);
  if (!match) return undefined;
  const [, conversationId, turnText] = match as unknown as [string, string, string];
  const token = (value: FeedbackValue) =>
    signToken({ conversationId, turn: Number(turnText), value }, secret, {
      purpose: FEEDBACK_TOKEN_PURPOSE,
      expiresInSeconds: FEEDBACK_LIFETIME_SECONDS,
      now,
    });
  return {
    type: 'context_actions',
    elements: [
      {
        type: 'feedback_buttons',
        action_id: FEEDBACK_ACTION_ID,
        positive_button: {
          text: { type: 'plain_text', text: 'Good answer' },
          accessibility_label: 'Mark this answer as good',
          value: token('positive'),
        },
        negative_button: {
          text: { type: 'plain_text', text: 'Bad answer' },
          accessibility_label: 'Mark this answer as bad',
          value: token('negative'),
        },
      },
    ],
  };
}
