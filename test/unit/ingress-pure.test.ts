import { isValidSlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { isStopText, parseInboundEvent } from '../../events/inbound-event.ts';
import { loadEmailEdgeSettings } from '../../config/email-edge-settings.ts';
import { loadSlackEdgeSettings } from '../../config/slack-edge-settings.ts';
import { isAllowedSender, routeFromRecipient, senderAuthentication } from '../../functions/email/email-checks.ts';
import { capText, stripQuotedReply } from '../../functions/email/email-text.ts';
import { sqsFifoId } from '../../functions/shared/event-queue.ts';
import { slackSignature } from '../../functions/slack/slack-signature.ts';
import { signSlack } from '../../testkit/ingress.ts';

describe('Slack signatures', () => {
  it('match what Bolt verifies, for the product and for the test signer', () => {
    const body = '{"type":"event_callback","text":"héllo ✓"}';
    const timestamp = Math.floor(Date.now() / 1000);
    const product = slackSignature('secret', String(timestamp), body);
    const testSigner = signSlack(body, { secret: 'secret', timestamp });
    expect(testSigner['x-slack-signature']).toBe(product);
    expect(
      isValidSlackRequest({
        signingSecret: 'secret',
        body,
        headers: { 'x-slack-signature': product, 'x-slack-request-timestamp': timestamp },
      }),
    ).toBe(true);
    expect(
      isValidSlackRequest({
        signingSecret: 'other',
        body,
        headers: { 'x-slack-signature': product, 'x-slack-request-timestamp': timestamp },
      }),
    ).toBe(false);
  });
});

describe('ingress configuration', () => {
  it('names every missing variable', () => {
    expect(() => loadSlackEdgeSettings({})).toThrow(
      /SLACK_SIGNING_SECRET is not set[\s\S]*APPROVAL_TOKEN_SECRET is not set[\s\S]*INGRESS_QUEUE_URL/,
    );
    expect(() => loadEmailEdgeSettings({})).toThrow(
      /INGRESS_QUEUE_URL[\s\S]*EMAIL_ALLOWED_SENDERS is not set[\s\S]*EMAIL_REPLY_TOKEN_SECRET is not set/,
    );
  });

  it('refuses an empty secret, a standard queue and a bad number', () => {
    const env = {
      SLACK_SIGNING_SECRET: '  ',
      APPROVAL_TOKEN_SECRET: 'a',
      INGRESS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/ingress',
      INGRESS_MAX_BODY_BYTES: 'lots',
    };
    expect(() => loadSlackEdgeSettings(env)).toThrow(
      /SLACK_SIGNING_SECRET is empty[\s\S]*must name a FIFO queue[\s\S]*INGRESS_MAX_BODY_BYTES must be a positive integer/,
    );
  });

  it('fills the defaults', () => {
    const config = loadSlackEdgeSettings({
      SLACK_SIGNING_SECRET: 's',
      APPROVAL_TOKEN_SECRET: 'a',
      INGRESS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/ingress.fifo',
    });
    expect(config).toMatchObject({
      SLACK_DEFAULT_AGENT: 'assistant',
      INGRESS_MAX_BODY_BYTES: 1_048_576,
      SLACK_TIMESTAMP_TOLERANCE_SECONDS: 300,
      INGRESS_QUEUE_TIMEOUT_MS: 2500,
    });
    const email = loadEmailEdgeSettings({
      INGRESS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/ingress.fifo',
      EMAIL_ALLOWED_SENDERS: ' Ana@Example.com, @Example.org ',
      EMAIL_REPLY_TOKEN_SECRET: 'r',
    });
    expect(email).toMatchObject({
      EMAIL_ALLOWED_SENDERS: ['ana@example.com', '@example.org'],
      EMAIL_DMARC_POLICY: 'reject-on-fail',
      EMAIL_MAX_BODY_CHARS: 20_000,
    });
  });
});

describe('SQS FIFO ids', () => {
  it('keeps ids SQS accepts and hashes the rest to a stable 71-character id', () => {
    expect(sqsFifoId('slack-message:T1:C1:1712345678.000100')).toBe('slack-message:T1:C1:1712345678.000100');
    const long = `email:${'a'.repeat(200)}@example.com`;
    expect(sqsFifoId(long)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(sqsFifoId(long)).toBe(sqsFifoId(long));
    expect(sqsFifoId('email:has space@x')).toMatch(/^sha256:/);
    expect(sqsFifoId('email:ünïcode@x')).toMatch(/^sha256:/);
  });
});

describe('email rules', () => {
  it('reads SES verdicts', () => {
    const pass = { status: 'PASS' };
    const base = {
      recipients: [],
      spamVerdict: pass,
      virusVerdict: pass,
      spfVerdict: pass,
      dkimVerdict: pass,
      dmarcVerdict: { status: 'FAIL' },
    };
    const mail = { source: 'ana@example.com' };
    expect(senderAuthentication('example.com', base, mail, 'reject-on-fail')).toEqual({ problem: 'DMARC verdict is FAIL' });
    expect(senderAuthentication('example.com', base, mail, 'ignore')).toEqual({ via: 'spf', domain: 'example.com' });
    expect(senderAuthentication('example.com', { ...base, spfVerdict: { status: 'FAIL' } }, mail, 'ignore')).toHaveProperty('problem');
  });

  it('matches senders exactly or by whole domain', () => {
    const list = ['ana@example.com', '@trusted.example'];
    expect(isAllowedSender('ANA@example.com', list)).toBe(true);
    expect(isAllowedSender('bob@trusted.example', list)).toBe(true);
    expect(isAllowedSender('bob@sub.trusted.example', list)).toBe(false);
    expect(isAllowedSender('ana@example.com.evil', list)).toBe(false);
    expect(isAllowedSender('@trusted.example', list)).toBe(false);
  });

  it('routes by the recipient local part and keeps the token case', () => {
    expect(routeFromRecipient('Assistant@agents.example.com')).toEqual({ agent: 'assistant', address: 'assistant@agents.example.com' });
    expect(routeFromRecipient('research+eyJhIjoxfQ.Ab-_9@agents.example.com')).toEqual({
      agent: 'research',
      token: 'eyJhIjoxfQ.Ab-_9',
      address: 'research@agents.example.com',
    });
    expect(routeFromRecipient('9lives@agents.example.com')).toBeUndefined();
    expect(routeFromRecipient('a@b@c')).toBeUndefined();
  });

  it('strips quoted replies and caps long text', () => {
    expect(stripQuotedReply('Yes.\r\n\r\nOn Tue, 9 Apr 2024, Bot <bot@x> wrote:\r\n> Shall I?')).toBe('Yes.');
    expect(stripQuotedReply('Inline answer\n> quoted\nmore\n-- \nAna\nCEO')).toBe('Inline answer\nmore');
    expect(stripQuotedReply('Fine\n\n-----Original Message-----\nFrom: x')).toBe('Fine');
    expect(stripQuotedReply('On second thought, cancel it.')).toBe('On second thought, cancel it.');
    expect(capText('abcdef', 3)).toBe('abc\n[… 3 more characters not shown]');
  });
});

describe('the InboundEvent contract', () => {
  it('recognises stop and refuses events without their origin block', () => {
    expect(['stop', ' STOP ', 'Stop.', 'stop!'].every(isStopText)).toBe(true);
    expect(['stop it', 'please stop', 'nonstop'].some(isStopText)).toBe(false);
    const base = {
      version: 1,
      id: 'x',
      source: 'slack',
      kind: 'message',
      conversationId: 'c',
      receivedAt: new Date().toISOString(),
      user: { id: 'U' },
      text: 'hi',
    };
    expect(() => parseInboundEvent(base)).toThrow(/origin block named by its source/);
    expect(() => parseInboundEvent({ ...base, kind: 'approval', slack: { teamId: 'T', channelId: 'C' } })).toThrow(/approval block/);
    expect(parseInboundEvent({ ...base, slack: { teamId: 'T', channelId: 'C' } }).kind).toBe('message');
  });
});
