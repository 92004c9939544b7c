import { describe, expect, it } from 'vitest';
import { checkReplyToken, mintReplyToken, replyTokenFits, REPLY_TOKEN_LENGTH } from '../../events/email-thread.ts';
import {
  automaticMailSignal,
  dkimPassedDomains,
  isAligned,
  isAllowedSender,
  normaliseAllowEntry,
  senderAuthentication,
  singleFrom,
  type SesReceipt,
} from '../../functions/email/email-checks.ts';
import { safeContentType, safeFilename } from '../../functions/email/email.ts';

const pass = { status: 'PASS' };
const gray = { status: 'GRAY' };
const receipt = (overrides: Partial<SesReceipt>): SesReceipt => ({
  recipients: [],
  spfVerdict: gray,
  dkimVerdict: gray,
  dmarcVerdict: gray,
  ...overrides,
});

describe('sender authentication: the From domain, not just any domain', () => {
  it('takes DMARC PASS, or SPF PASS for an aligned envelope domain', () => {
    expect(senderAuthentication('example.com', receipt({ dmarcVerdict: pass }), { source: 'x@elsewhere.net' }, 'reject-on-fail')).toEqual({
      via: 'dmarc',
      domain: 'example.com',
    });
    expect(
      senderAuthentication('example.com', receipt({ spfVerdict: pass }), { source: 'bounce@mail.example.com' }, 'reject-on-fail'),
    ).toEqual({ via: 'spf', domain: 'mail.example.com' });
  });

  it('refuses SPF that passed for another domain: a rented server forging From', () => {
    expect(senderAuthentication('example.com', receipt({ spfVerdict: pass }), { source: 'x@evil.net' }, 'reject-on-fail')).toEqual({
      problem: 'From domain example.com is not authenticated: DMARC GRAY, SPF PASS for evil.net, DKIM GRAY',
    });
    for (const lookAlike of ['evil-example.com', 'example.com.evil.net', 'notexample.com', 'com']) {
      expect(
        senderAuthentication('example.com', receipt({ spfVerdict: pass }), { source: `x@${lookAlike}` }, 'reject-on-fail'),
      ).toHaveProperty('problem');
    }
  });

  it('takes DKIM PASS only for an aligned signing domain, as SES reports it', () => {
    const sesResults = (value: string) => [{ name: 'Authentication-Results', value }];
    const dkimPass = receipt({ dkimVerdict: pass });
    expect(
      senderAuthentication(
        'example.com',
        dkimPass,
        {
          source: 'x@evil.net',
          headers: sesResults(
            'amazonses.com; spf=pass smtp.mailfrom=x@evil.net; dkim=pass header.i=@example.com; dmarc=none header.from=example.com;',
          ),
        },
        'ignore',
      ),
    ).toEqual({
      via: 'dkim',
      domain: 'example.com',
    });
    // A passing signature of another domain does not vouch for the From domain.
    expect(
      senderAuthentication(
        'example.com',
        dkimPass,
        { source: 'x@evil.net', headers: sesResults('amazonses.com; dkim=pass header.i=@evil.net; dkim=fail header.i=@example.com') },
        'ignore',
      ),
    ).toHaveProperty('problem');
    // A results header the sender wrote (another authserv-id on top) is not SES's.
    expect(dkimPassedDomains(sesResults('mx.evil.net; dkim=pass header.d=example.com'))).toEqual([]);
    // Without SES's report, signatures count only when they all name one domain.
    const signature = (domain: string) => ({ name: 'DKIM-Signature', value: `v=1; a=rsa-sha256; d=${domain}; s=s1; h=from; bh=x; b=y` });
    expect(dkimPassedDomains([signature('example.com')])).toEqual(['example.com']);
    expect(dkimPassedDomains([signature('example.com'), signature('evil.net')])).toEqual([]);
  });

  it('aligns a subdomain with its parent, never a look-alike or the parent with a child', () => {
    expect(isAligned('example.com', 'example.com')).toBe(true);
    expect(isAligned('Mail.Example.com.', 'example.com')).toBe(true);
    expect(isAligned('evil-example.com', 'example.com')).toBe(false);
    expect(isAligned('example.com.evil.net', 'example.com')).toBe(false);
    expect(isAligned('example.com', 'mail.example.com')).toBe(false);
  });
});

describe('the From address', () => {
  it('is exactly one plain mailbox', () => {
    expect(singleFrom(['Ana Example <Ana@Example.com>'])).toEqual({ address: 'ana@example.com', name: 'Ana Example' });
    expect(singleFrom(['ana@example.com', 'bob@example.com'])).toEqual({ problem: 'message has 2 From headers, not one' });
    expect(singleFrom(['ana@example.com, mallory@evil.net'])).toEqual({ problem: 'From names 2 addresses, not one' });
    expect(singleFrom(['"ana@example.com" <mallory@evil.net>'])).toEqual({ address: 'mallory@evil.net', name: 'ana@example.com' });
    expect(singleFrom(['ana@localhost'])).toEqual({ problem: 'From is not a plain address' });
    expect(singleFrom([''])).toHaveProperty('problem');
    expect(singleFrom([`${'a'.repeat(65)}@example.com`])).toEqual({ problem: 'From is not a plain address' });
    expect(singleFrom(['"Ana\u202eevil" <ana@example.com>'])).toEqual({ address: 'ana@example.com', name: 'Anaevil' });
  });

  it('is allowed by whole address or whole domain, any case, never by suffix or subdomain', () => {
    const list = ['ana@example.com', '@trusted.example', 'partner.example'].map((entry) => normaliseAllowEntry(entry)!);
    expect(list).toEqual(['ana@example.com', '@trusted.example', '@partner.example']);
    expect(isAllowedSender('ANA@EXAMPLE.COM', list)).toBe(true);
    expect(isAllowedSender('bob@partner.example', list)).toBe(true);
    for (const sender of [
      'bob@example.com',
      'ana@evil-example.com',
      'ana@example.com.evil.net',
      'x@evil-partner.example',
      'x@eu.partner.example',
      'x@partner.example.evil',
      '@trusted.example',
    ]) {
      expect(isAllowedSender(sender, list)).toBe(false);
    }
    expect(normaliseAllowEntry('*.example.com')).toBeUndefined();
    expect(normaliseAllowEntry('@')).toBeUndefined();
  });
});

describe('automatic mail (RFC 3834)', () => {
  const cases: [string, { name: string; value: string }[], string | null | undefined, string | undefined][] = [
    ['a person', [{ name: 'Subject', value: 'hi' }], 'ana@example.com', undefined],
    ['Auto-Submitted: no', [{ name: 'Auto-Submitted', value: 'no' }], 'ana@example.com', undefined],
    ['an auto-reply', [{ name: 'Auto-Submitted', value: 'auto-replied' }], 'ana@example.com', 'Auto-Submitted is auto-replied'],
    ['bulk', [{ name: 'Precedence', value: 'bulk' }], 'ana@example.com', 'Precedence is bulk'],
    ['a list', [{ name: 'List-Id', value: '<team.example.com>' }], 'ana@example.com', 'mailing-list mail (List-Id)'],
    [
      'an Outlook out-of-office',
      [{ name: 'X-Auto-Response-Suppress', value: 'All' }],
      'ana@example.com',
      'X-Auto-Response-Suppress is set (all)',
    ],
    [
      'a bounce',
      [{ name: 'Content-Type', value: 'multipart/report; report-type=delivery-status; boundary=x' }],
      'ana@example.com',
      'message is a report (multipart/report)',
    ],
    ['a null envelope sender', [], '', 'envelope sender is empty (a bounce or report)'],
    ['MAILER-DAEMON', [], 'MAILER-DAEMON@mx.example.com', 'envelope sender is mailer-daemon@mx.example.com'],
    ['an empty Return-Path', [{ name: 'Return-Path', value: '<>' }], undefined, 'Return-Path is empty (a bounce or report)'],
  ];
  it.each(cases)('%s', (_name, headers, source, expected) => {
    expect(automaticMailSignal(headers, source)).toBe(expected);
  });
});

describe('reply tokens', () => {
  it('fit a local part with the agent name, and only ours verify', () => {
    const { token, id } = mintReplyToken('secret');
    expect(token).toHaveLength(REPLY_TOKEN_LENGTH);
    expect(`assistant+${token}`.length).toBeLessThanOrEqual(64);
    expect(replyTokenFits('a'.repeat(31))).toBe(true);
    expect(replyTokenFits('a'.repeat(32))).toBe(false);
    expect(checkReplyToken(token, 'secret')).toEqual({ ok: true, id });
    expect(checkReplyToken(token.toUpperCase(), 'secret')).toEqual({ ok: true, id });
    expect(checkReplyToken(token, 'other')).toEqual({ ok: false, reason: 'reply token signature does not match' });
    const flipped = `${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}`;
    expect(checkReplyToken(flipped, 'secret')).toEqual({ ok: false, reason: 'reply token signature does not match' });
    expect(checkReplyToken(`${token}=`, 'secret')).toEqual({ ok: false, reason: 'reply token is malformed' });
    expect(checkReplyToken('eyJhIjoxfQ.Ab-_9', 'secret')).toEqual({ ok: false, reason: 'reply token is malformed' });
  });
});

describe('attachment metadata', () => {
  it('keeps content types the store takes and names that are not paths', () => {
    expect(safeContentType('application/PDF; name="x.pdf"')).toBe('application/pdf');
    expect(safeContentType('text/plain\r\nX-Evil: 1')).toBe('application/octet-stream');
    expect(safeContentType('not a type')).toBe('application/octet-stream');
    expect(safeContentType(undefined)).toBe('application/octet-stream');
    expect(safeFilename('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(safeFilename('..')).toBe('unnamed');
    expect(safeFilename('a\u0000b.txt')).toBe('a_b.txt');
    expect(safeFilename('x'.repeat(500))).toHaveLength(200);
  });
});
