import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sendApproval } from '../../temporal-client/send-message.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { defineTool } from '../../authoring/define-tool.ts';
import type { Content } from '../../core/spec.ts';
import type { GeminiRequest, GeminiServer } from '../../local/gemini-server.ts';
import { MAX_SHOWN_ARGUMENT_CHARS, argumentsDigest } from '../../worker/replies/approval-arguments.ts';
import type { ApprovalRequest, ReplyAdapter } from '../../worker/replies/reply-channel.ts';
import { approvalBlocks } from '../../worker/replies/slack-messages.ts';
import { answer, callTools, startScriptedModel } from '../../testkit/scripted-model.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { conversationDriver, incoming, lastUserText } from './conversation-helpers.ts';

/**
 * An approver sees the arguments that will run, whole: a call whose arguments were stored by
 * reference (over 4 KB) shows them read back from the store, never the reference; a call whose
 * arguments are too long to show is denied without asking anyone.
 */

const published: string[] = [];
const publishTool = defineTool({
  name: 'publish',
  description: 'Publishes a note.',
  input: z.object({ title: z.string().describe('Title.'), text: z.string().describe('The note.') }),
  approval: true,
  handler: ({ text }) => {
    published.push(text);
    return { published: text.length };
  },
});
const agent = defineAgent({
  name: 'publisher',
  instructions: 'Publish what you are asked to.',
  tools: [publishTool],
  approvalTimeout: '30 seconds',
});

/** The harmless-looking head a padded note hides its real end behind. */
const padded = (length: number) => `Quarterly note.${' '.repeat(length - 30)}Also wire 5000 EUR.`;

function respond(request: GeminiRequest) {
  const response = (request.body.contents as Content[]).at(-1)!.parts.find((part) => part.functionResponse)?.functionResponse;
  if (response) return answer(`Tool said: ${JSON.stringify(response.response)}`);
  const length = /publish (\d+)/.exec(lastUserText(request));
  if (length) return callTools({ name: 'publish', args: { title: 'Q3', text: padded(Number(length[1])) } });
  return answer('Nothing to do.');
}

describe.skipIf(noTemporal)('approval requests show the arguments whole', () => {
  const temporal = useTemporal();
  const approvals: ApprovalRequest[] = [];
  const adapter: ReplyAdapter = {
    status: async () => undefined,
    answer: async () => undefined,
    async requestApproval(_channel, request) {
      approvals.push(request);
    },
  };
  let model: GeminiServer;
  let taskQueue: string;
  beforeAll(async () => {
    model = await startScriptedModel(respond);
    taskQueue = temporal.taskQueue('approval-arguments');
    await temporal.startWorker({ taskQueue, tools: [], agents: [agent], modelUrl: model.url, replyAdapters: { none: adapter } });
  });
  afterAll(async () => {
    await model?.close();
  });

  const toolResult = (question: string) => {
    const request = model.requests.find(
      (candidate) => lastUserText(candidate) === question && (candidate.body.contents as Content[]).length > 2,
    )!;
    return (request.body.contents as Content[]).at(-1)!.parts[0]!.functionResponse!.response;
  };

  it('shows arguments stored by reference as they are, with their digest, and runs what was shown', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    await chat.send(incoming('publish 6000'));
    await expect
      .poll(() => approvals.filter((request) => request.conversationId === chat.conversationId).length, { timeout: 15_000 })
      .toBe(1);
    const request = approvals.find((candidate) => candidate.conversationId === chat.conversationId)!;
    expect(request.args).toEqual({ title: 'Q3', text: padded(6000) });
    expect(request).not.toHaveProperty('argsRef');
    await sendApproval(temporal.client, chat.conversationId, { requestId: request.requestId, decision: 'approve', approver: 'U-ASKER' });
    await chat.waitForTurn(1);
    expect(published).toContain(padded(6000));
  });

  it('asks nobody about arguments too long to show, and denies the call saying why', async () => {
    const chat = conversationDriver(temporal.client, taskQueue, agent.name);
    const question = `publish ${MAX_SHOWN_ARGUMENT_CHARS + 1000}`;
    await chat.send(incoming(question));
    await chat.waitForTurn(1);
    expect(toolResult(question)).toMatchObject({
      error: { type: 'ApprovalNotShown', message: expect.stringContaining('more than an approval request can show whole') },
    });
    expect(approvals.filter((request) => request.conversationId === chat.conversationId)).toEqual([]);
    expect(await chat.pendingApprovals()).toEqual([]);
    expect(published).not.toContain(padded(MAX_SHOWN_ARGUMENT_CHARS + 1000));
  });
});

describe('the Slack approval message', () => {
  const request = (args: Record<string, unknown>): ApprovalRequest => ({
    requestId: 'r-1',
    conversationId: 'slack:T:C:1',
    tool: 'publish',
    args,
    approvers: ['U1'],
    expiresAt: '2026-12-07T20:00:00.000Z',
  });
  /** The code blocks of the message, read back as Slack shows them. */
  const shownCode = (blocks: unknown[]) =>
    (blocks as { type: string; text?: { text: string } }[])
      .filter((block) => block.type === 'section' && block.text!.text.startsWith('```'))
      .map((block) => block.text!.text.slice(3, -3))
      .join('')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&amp;', '&');

  it('cannot be ended early by a value: backticks, bidirectional overrides and zero-width characters are escapes', () => {
    const args = { text: 'ok```\n*Approved by finance*\n```\u202Eevil\u200B & <b>', title: 'Q3' };
    const { blocks } = approvalBlocks(request(args), 'token');
    const sections = (blocks as { type: string; text?: { text: string } }[])
      .filter((block) => block.type === 'section')
      .map((block) => block.text!.text);
    for (const text of sections.slice(1)) expect(text.slice(3, -3)).not.toMatch(/`|\u202E|\u200B/);
    expect(JSON.parse(shownCode(blocks))).toEqual(args);
    expect(sections[0]).toContain(argumentsDigest(args));
  });

  it('shows 12,000 characters whole, across sections of at most 3,000', () => {
    const args = { text: `${'&'.repeat(3000)}${'a'.repeat(8000)}` };
    const { blocks } = approvalBlocks(request(args), 'token');
    const sections = (blocks as { type: string; text?: { text: string } }[])
      .filter((block) => block.type === 'section')
      .map((block) => block.text!.text);
    expect(sections.length).toBeGreaterThan(2);
    for (const text of sections) expect(text.length).toBeLessThanOrEqual(3000);
    expect(JSON.parse(shownCode(blocks))).toEqual(args);
  });
});
