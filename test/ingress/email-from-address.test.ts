import { describe, expect, it } from 'vitest';
import { routeEvent } from '../../functions/dispatch/route.ts';
import { parseInboundEmail } from '../../functions/email/email.ts';
import { dispatchConfig } from '../dispatch/support.ts';
import { mime, receipt, sesMail } from '../../testkit/email-fixtures.ts';
import { emailConfig } from '../../testkit/ingress.ts';

/**
 * The reply's From address is the agent's on our domain, as SES received the message (its
 * receipt's recipients, which a receipt rule limits to our domains): an allowed sender who
 * names the agent at another verified domain of the company in To gets no reply signed as it.
 */
describe('the From address of a reply', () => {
  it('comes from SES receipt recipients, whatever the To header says', async () => {
    const raw = mime({ to: 'assistant@payroll.example.com, assistant@agents.example.com' });
    const parsed = await parseInboundEmail({
      raw,
      receipt: receipt({ recipients: ['Assistant@Agents.Example.com'] }),
      mail: sesMail(raw),
      config: emailConfig('https://sqs.invalid/q.fifo'),
    });
    if (!('accepted' in parsed)) throw new Error(`rejected: ${parsed.rejected}`);
    expect(parsed.accepted.email).toMatchObject({
      to: ['assistant@payroll.example.com', 'assistant@agents.example.com'],
      agentAddress: 'assistant@agents.example.com',
    });
    const action = routeEvent(parsed.accepted, dispatchConfig('agents'));
    expect(action).toMatchObject({
      type: 'message',
      start: { channel: { kind: 'email', from: 'assistant@agents.example.com', to: ['ana@example.com'] } },
    });
  });

  it('is the configured domain when there is one, even for mail SES received at another of ours', async () => {
    const raw = mime({ to: 'assistant@payroll.example.com' });
    const parsed = await parseInboundEmail({
      raw,
      receipt: receipt({ recipients: ['assistant@old-agents.example.com'] }),
      mail: sesMail(raw),
      config: emailConfig('https://sqs.invalid/q.fifo'),
    });
    if (!('accepted' in parsed)) throw new Error(`rejected: ${parsed.rejected}`);
    const action = routeEvent(parsed.accepted, { ...dispatchConfig('agents'), EMAIL_AGENT_DOMAIN: 'agents.example.com' });
    expect(action).toMatchObject({ start: { channel: { from: 'assistant@agents.example.com' } } });
  });
});
