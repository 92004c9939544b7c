/**
 * The admission rules for inbound mail, as pure functions: SES's verdicts, the sender
 * allow-list, and what the recipient address says about agent and conversation.
 */

export type VerdictStatus = 'PASS' | 'FAIL' | 'GRAY' | 'PROCESSING_FAILED' | 'DISABLED' | (string & {});

/** The `receipt` object of an SES inbound notification, as far as the ingress reads it. */
export interface SesReceipt {
  /** Recipients SES accepted for this rule, i.e. the addresses at our domain. */
  recipients: string[];
  spamVerdict?: { status: VerdictStatus };
  virusVerdict?: { status: VerdictStatus };
  spfVerdict?: { status: VerdictStatus };
  dkimVerdict?: { status: VerdictStatus };
  dmarcVerdict?: { status: VerdictStatus };
}

export type DmarcPolicy = 'ignore' | 'reject-on-fail';

/**
 * Why SES's verdicts rule a message out, or undefined when they do not: spam and virus must
 * not be FAIL, SPF or DKIM must PASS, and under `reject-on-fail` DMARC must not be FAIL
 * (which is what catches a From forged onto mail whose SPF passes for another domain).
 */
export function verdictProblem(receipt: SesReceipt, dmarcPolicy: DmarcPolicy): string | undefined {
  if (receipt.spamVerdict?.status === 'FAIL') return 'spam verdict is FAIL';
  if (receipt.virusVerdict?.status === 'FAIL') return 'virus verdict is FAIL';
  if (receipt.spfVerdict?.status !== 'PASS' && receipt.dkimVerdict?.status !== 'PASS') {
    return `neither SPF (${receipt.spfVerdict?.status ?? 'missing'}) nor DKIM (${receipt.dkimVerdict?.status ?? 'missing'}) passed`;
  }
  if (dmarcPolicy === 'reject-on-fail' && receipt.dmarcVerdict?.status === 'FAIL') return 'DMARC verdict is FAIL';
  return undefined;
}

/** Entries are exact addresses or `@domain`; both sides compared in lower case. */
export function isAllowedSender(address: string, allowList: readonly string[]): boolean {
  const sender = address.trim().toLowerCase();
  const at = sender.lastIndexOf('@');
  if (at <= 0) return false;
  const domain = sender.slice(at);
  return allowList.some((entry) => (entry.startsWith('@') ? entry === domain : entry === sender));
}

export interface RecipientRoute {
  agent: string;
  /** The plus-address part, if any: a signed conversation token (case kept, it is base64url). */
  token?: string;
}

const RECIPIENT = /^([A-Za-z][A-Za-z0-9_-]{0,62})(?:\+([A-Za-z0-9_.-]+))?@[^@\s]+$/;

/** `assistant@agents.example.com` → agent `assistant`; `assistant+<token>@…` adds the token. */
export function routeFromRecipient(address: string): RecipientRoute | undefined {
  const match = RECIPIENT.exec(address.trim());
  if (!match) return undefined;
  const agent = (match[1] as string).toLowerCase();
  return match[2] ? { agent, token: match[2] } : { agent };
}

/** Picks the recipient that routes, preferring one with a token (a reply into a conversation). */
export function pickRecipient(recipients: readonly string[]): RecipientRoute | undefined {
  const routes = recipients.map(routeFromRecipient).filter((route) => route !== undefined);
  return routes.find((route) => route.token !== undefined) ?? routes[0];
}
