import { describe, expect, it } from 'vitest';
import { routeEvent, UndeliverableEvent } from '../../functions/dispatch/route.ts';
import { dispatchConfig, emailMessageEvent, slackMessageEvent } from './support.ts';

const config = dispatchConfig('agents');

describe('routing an event', () => {
  it('sends a message to the agent it names, or the default, lower-cased', () => {
    expect(routeEvent(slackMessageEvent(), config)).toMatchObject({ type: 'message', start: { agent: 'assistant' } });
    expect(routeEvent(slackMessageEvent({ agent: 'Research' }), config)).toMatchObject({ type: 'message', start: { agent: 'research' } });
    expect(() => routeEvent(slackMessageEvent({ agent: 'research' }), { ...config, DISPATCH_AGENTS: ['assistant'] })).toThrow(
      UndeliverableEvent,
    );
  });

  it('answers email from the agent address SES received it at, without its plus token, threaded root first', () => {
    const event = emailMessageEvent({ messageId: 'third@mail.example.com', root: 'root@mail.example.com' });
    event.email!.to = ['ana@example.com', 'Assistant+tok.en_1@Agents.Example.com'];
    event.email!.agentAddress = 'assistant@agents.example.com';
    event.email!.references = ['root@mail.example.com', 'second@agents.example.com'];
    const action = routeEvent(event, config);
    expect(action.type === 'message' && action.start.channel).toEqual({
      kind: 'email',
      from: 'assistant@agents.example.com',
      to: ['ana@example.com'],
      subject: 'Launch',
      inReplyTo: 'third@mail.example.com',
      references: ['root@mail.example.com', 'second@agents.example.com'],
    });
    // The message carries its own channel: the threading headers move on with each message.
    expect(action.type === 'message' && action.message.channel).toEqual(action.type === 'message' && action.start.channel);
  });

  it('never takes the From address from the To header the sender wrote', () => {
    const event = emailMessageEvent({ messageId: 'm@mail.example.com' });
    // Another verified domain of the company, named by the sender.
    event.email!.to = ['assistant@payroll.example.com'];
    delete event.email!.agentAddress;
    expect(() => routeEvent(event, config)).toThrow(/EMAIL_AGENT_DOMAIN/);
    event.email!.agentAddress = 'assistant@agents.example.com';
    expect(routeEvent(event, config)).toMatchObject({ start: { channel: { from: 'assistant@agents.example.com' } } });
    // The configured domain wins over any address.
    const action = routeEvent(event, { ...config, EMAIL_AGENT_DOMAIN: 'mail.agents.example.com' });
    expect(action.type === 'message' && action.start.channel).toMatchObject({ from: 'assistant@mail.agents.example.com' });
  });

  it('lists stored email attachments in the message, with their refs', () => {
    const event = emailMessageEvent({ messageId: 'att@x', text: 'See attached.' });
    const ref = `sha256:${'ab'.repeat(32)}`;
    event.email!.attachments = [{ filename: 'q1.pdf', contentType: 'application/pdf', size: 20, ref }];
    const action = routeEvent(event, config);
    expect(action.type === 'message' && action.message.text).toBe(
      `See attached.\n\n[Attachments]\n- q1.pdf (application/pdf, 20 bytes, stored as ${ref})`,
    );
  });

  it('reads "APPROVE <code>" in an email as a possible decision, and nothing else', () => {
    const approve = routeEvent(
      emailMessageEvent({ messageId: 'a@x', root: 'r@x', text: 'Approve k7p2m9qx\n\nsent from my phone' }),
      config,
    );
    expect(approve).toMatchObject({ type: 'message', emailApproval: { decision: 'approve', code: 'K7P2M9QX' } });
    expect(routeEvent(emailMessageEvent({ messageId: 'b@x', text: 'I approve of this' }), config)).not.toHaveProperty('emailApproval');
    expect(routeEvent(slackMessageEvent({ text: 'approve K7P2M9QX' }), config)).not.toHaveProperty('emailApproval');
  });
});
