import { addressParser } from 'postal-mime';
import { MAX_LOCAL_PART } from '../../events/email-thread.ts';

/**
 * The admission rules for inbound mail, as pure functions: SES's verdicts and the alignment of
 * the authenticated domains with the From domain, the single plain From address, the sender
 * allow-list, the signs of automatic mail, and what the recipient address says about agent and
 * conversation. Everything here reads only what SES's notification carries, so it runs before
 * the message is downloaded; the edge runs the header rules again on the downloaded message.
 */

export type VerdictStatus = 'PASS' | 'FAIL' | 'GRAY' | 'PROCESSING_FAILED' | 'DISABLED' | (string & {});

/** The `receipt` object of an SES inbound notification, as far as the edge reads it. */
export interface SesReceipt {
  /** Recipients SES accepted for this rule, i.e. the addresses at our domain. */
  recipients: string[];
  spamVerdict?: { status: VerdictStatus };
  virusVerdict?: { status: VerdictStatus };
  spfVerdict?: { status: VerdictStatus };
  dkimVerdict?: { status: VerdictStatus };
  dmarcVerdict?: { status: VerdictStatus };
  /** The From domain's DMARC policy; SES sets it only when DMARC failed. */
  dmarcPolicy?: string;
}

export interface MailHeader {
  name: string;
  value: string;
}

/** The `mail` object of an SES inbound notification, as far as the edge reads it. */
export interface SesMail {
  /** The envelope sender (SMTP MAIL FROM): the domain SPF authenticated. Empty for bounces. */
  source?: string;
  /** The message's headers, in order, SES's own on top; absent or cut when `headersTruncated`. */
  headers?: MailHeader[];
  headersTruncated?: boolean;
  commonHeaders?: { from?: string[]; messageId?: string; subject?: string; returnPath?: string };
}

export type DmarcPolicy = 'ignore' | 'reject-on-fail';

/** A refusal reason, or undefined when the check passes. */
export type Problem = string | undefined;

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** `Ana@Example.COM` → `ana@example.com`; undefined unless it is a plain dot-atom address at a DNS name. */
export function plainAddress(address: string): string | undefined {
  const candidate = address.trim();
  const at = candidate.lastIndexOf('@');
  if (at <= 0 || candidate.length > 254) return undefined;
  const local = candidate.slice(0, at);
  const domain = candidate.slice(at + 1).toLowerCase();
  if (local.length > MAX_LOCAL_PART || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) return undefined;
  return `${local.toLowerCase()}@${domain}`;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export interface FromMailbox {
  address: string;
  /** Display name, control characters removed, at most MAX_DISPLAY_NAME characters. */
  name?: string;
}

/** Characters of a display name kept. */
export const MAX_DISPLAY_NAME = 100;

/**
 * Exactly one From header holding exactly one plain mailbox: no groups, no lists, nothing
 * that two parsers could read two ways. `values` are the From header values (one per header).
 */
export function singleFrom(values: readonly string[]): FromMailbox | { problem: string } {
  if (values.length !== 1) return { problem: `message has ${values.length} From headers, not one` };
  const parsed = addressParser(values[0] as string);
  if (parsed.length !== 1) return { problem: `From names ${parsed.length} addresses, not one` };
  const mailbox = parsed[0]!;
  if ('group' in mailbox && mailbox.group) return { problem: 'From is a group, not one address' };
  const address = plainAddress(mailbox.address ?? '');
  if (!address) return { problem: 'From is not a plain address' };
  const name = cleanName(mailbox.name ?? '');
  return name ? { address, name } : { address };
}

/** Display names are shown to the agent: no control characters, bounded. */
export function cleanName(name: string): string | undefined {
  const cleaned = name.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  return cleaned === '' ? undefined : cleaned.slice(0, MAX_DISPLAY_NAME);
}

/**
 * Allow-list entries are a whole address (`ana@example.com`) or a whole domain (`@example.com`
 * or `example.com`), compared in lower case. A domain entry admits that domain only, never its
 * subdomains (list `@eu.example.com` too), and never a suffix look-alike.
 */
export function isAllowedSender(address: string, allowList: readonly string[]): boolean {
  const sender = plainAddress(address);
  if (!sender) return false;
  const domain = `@${domainOf(sender)}`;
  return allowList.some((entry) => {
    const normalised = normaliseAllowEntry(entry);
    return normalised !== undefined && (normalised.startsWith('@') ? normalised === domain : normalised === sender);
  });
}

/** `Example.com` → `@example.com`; `Ana@Example.com` → `ana@example.com`; anything else → undefined. */
export function normaliseAllowEntry(entry: string): string | undefined {
  const trimmed = entry.trim().toLowerCase();
  if (trimmed.startsWith('@')) return DOMAIN.test(trimmed.slice(1)) ? trimmed : undefined;
  if (!trimmed.includes('@')) return DOMAIN.test(trimmed) ? `@${trimmed}` : undefined;
  return plainAddress(trimmed);
}

/** Spam and virus verdicts; everything about who sent it is `senderAuthentication`'s. */
export function contentVerdictProblem(receipt: SesReceipt): Problem {
  if (receipt.spamVerdict?.status === 'FAIL') return 'spam verdict is FAIL';
  if (receipt.virusVerdict?.status === 'FAIL') return 'virus verdict is FAIL';
  return undefined;
}

/**
 * Relaxed alignment without a public-suffix list: the authenticated domain is the From domain
 * or one of its subdomains (`bounce.example.com` aligns with `example.com`). The other way
 * round (`example.com` authenticating `mail.example.com`) needs the organisational domain,
 * which only a public-suffix list can tell; DMARC's own verdict covers that case.
 */
export function isAligned(authenticated: string, fromDomain: string): boolean {
  const domain = authenticated.trim().toLowerCase().replace(/\.$/, '');
  return domain === fromDomain || domain.endsWith(`.${fromDomain}`);
}

export type Authentication = { via: 'dmarc' | 'spf' | 'dkim'; domain: string } | { problem: string };

/**
 * Whether the From domain is authenticated, from SES's verdicts and what they apply to:
 * DMARC PASS (SES evaluated DMARC for the From domain), or SPF PASS for an envelope sender
 * (`mail.source`, set by SES from MAIL FROM) aligned with the From domain, or DKIM PASS for a
 * signing domain aligned with it. SES's DKIM verdict does not say which signature passed, so
 * the passing domains come from SES's own Authentication-Results header (the first one, with
 * authserv-id `amazonses.com`: SES puts its headers on top of the sender's); without one,
 * only when every DKIM-Signature names an aligned domain. SPF passing for some other domain,
 * which is what forged mail from a rented server has, is not enough.
 */
export function senderAuthentication(fromDomain: string, receipt: SesReceipt, mail: SesMail, dmarcPolicy: DmarcPolicy): Authentication {
  const dmarc = receipt.dmarcVerdict?.status ?? 'missing';
  if (dmarc === 'FAIL' && dmarcPolicy === 'reject-on-fail')
    return { problem: `DMARC verdict is FAIL${receipt.dmarcPolicy ? ` (the domain's policy: ${receipt.dmarcPolicy})` : ''}` };
  if (dmarc === 'PASS') return { via: 'dmarc', domain: fromDomain };
  const spf = receipt.spfVerdict?.status ?? 'missing';
  const envelopeDomain = mail.source ? domainOf(mail.source) : '';
  if (spf === 'PASS' && envelopeDomain !== '' && isAligned(envelopeDomain, fromDomain)) return { via: 'spf', domain: envelopeDomain };
  const dkim = receipt.dkimVerdict?.status ?? 'missing';
  if (dkim === 'PASS') {
    const aligned = dkimPassedDomains(mail.headers ?? []).find((domain) => isAligned(domain, fromDomain));
    if (aligned) return { via: 'dkim', domain: aligned };
  }
  return {
    problem: `From domain ${fromDomain} is not authenticated: DMARC ${dmarc}, SPF ${spf}${envelopeDomain ? ` for ${envelopeDomain}` : ''}, DKIM ${dkim}${dkim === 'PASS' ? ' for no aligned domain' : ''}`,
  };
}

/** Domains whose DKIM signature passed, as SES reports them; see `senderAuthentication`. */
export function dkimPassedDomains(headers: readonly MailHeader[]): string[] {
  const results = headers.find((header) => header.name.toLowerCase() === 'authentication-results');
  if (results) {
    const [serviceId, ...clauses] = results.value.split(';');
    if (serviceId?.trim().toLowerCase() !== 'amazonses.com') return [];
    const domains: string[] = [];
    for (const clause of clauses) {
      const match = /^\s*dkim\s*=\s*pass\b/i.exec(clause);
      if (!match) continue;
      const tag = /\bheader\.(?:d\s*=\s*([^\s;]+)|i\s*=\s*[^\s;@]*@([^\s;]+))/i.exec(clause);
      const domain = tag?.[1] ?? tag?.[2];
      if (domain) domains.push(domain.toLowerCase());
    }
    return domains;
  }
  const signers = headers
    .filter((header) => header.name.toLowerCase() === 'dkim-signature')
    .map((header) => /(?:^|;)\s*d\s*=\s*([^\s;]+)/i.exec(header.value)?.[1]?.toLowerCase());
  if (signers.length === 0 || signers.some((domain) => domain === undefined)) return [];
  // No report of which passed: usable only if they all name the same domain.
  return new Set(signers).size === 1 ? [signers[0] as string] : [];
}

/**
 * RFC 3834's signs of mail no agent should answer: auto-replies, bounces and other reports,
 * bulk and list mail. `envelopeSender` is SES's `mail.source` when known; `null` means empty.
 */
export function automaticMailSignal(headers: readonly MailHeader[], envelopeSender?: string | null): Problem {
  if (envelopeSender === null || envelopeSender?.trim() === '' || envelopeSender?.trim() === '<>')
    return 'envelope sender is empty (a bounce or report)';
  if (envelopeSender && /^(mailer-daemon|postmaster)@/i.test(envelopeSender.trim()))
    return `envelope sender is ${envelopeSender.trim().toLowerCase()}`;
  for (const { name, value } of headers) {
    const header = name.toLowerCase();
    const text = value.trim().toLowerCase();
    if (header === 'auto-submitted' && text.split(';')[0]?.trim() !== 'no') return `Auto-Submitted is ${text.slice(0, 40)}`;
    if (header === 'precedence' && /^(bulk|junk|list|auto_reply)\b/.test(text)) return `Precedence is ${text.slice(0, 20)}`;
    if (header === 'list-id' || header === 'list-unsubscribe') return `mailing-list mail (${name})`;
    if (header === 'x-auto-response-suppress' && text !== '') return `X-Auto-Response-Suppress is set (${text.slice(0, 20)})`;
    if (header === 'x-autoreply' || header === 'x-autorespond') return `${name} is set`;
    if (header === 'return-path' && /^<?\s*>?$/.test(text)) return 'Return-Path is empty (a bounce or report)';
    if (header === 'return-path' && /^<?(mailer-daemon|postmaster)@/.test(text)) return `Return-Path is ${text.slice(0, 60)}`;
    if (header === 'content-type' && /^multipart\/report\b/.test(text)) return 'message is a report (multipart/report)';
  }
  return undefined;
}

export interface RecipientRoute {
  agent: string;
  /** The plus-address part, if any: a reply token. */
  token?: string;
  /**
   * `agent@domain` as SES received it (the envelope recipient its receipt rule accepted, on a
   * domain of ours), without the token: the address replies come from. Never the To header,
   * which the sender writes.
   */
  address: string;
}

const RECIPIENT = /^([A-Za-z][A-Za-z0-9_-]{0,62})(?:\+([A-Za-z0-9_.-]+))?@([A-Za-z0-9.-]{1,253})$/;

/** `assistant@agents.example.com` → agent `assistant`; `assistant+<token>@…` adds the token. */
export function routeFromRecipient(address: string): RecipientRoute | undefined {
  const trimmed = address.trim();
  if (trimmed.length > 254) return undefined;
  const match = RECIPIENT.exec(trimmed);
  if (!match) return undefined;
  const agent = (match[1] as string).toLowerCase();
  const own = `${agent}@${(match[3] as string).toLowerCase()}`;
  return match[2] ? { agent, token: match[2], address: own } : { agent, address: own };
}

/** Picks the recipient that routes, preferring one with a token (a reply into a conversation). */
export function pickRecipient(recipients: readonly string[]): RecipientRoute | undefined {
  const routes = recipients
    .slice(0, 50)
    .map(routeFromRecipient)
    .filter((route) => route !== undefined);
  return routes.find((route) => route.token !== undefined) ?? routes[0];
}

/** Values of the headers named `name`, in order. */
export function headerValues(headers: readonly MailHeader[], name: string): string[] {
  const wanted = name.toLowerCase();
  return headers.filter((header) => header.name.toLowerCase() === wanted).map((header) => header.value);
}
