import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { sendApproval, sendMessage, sendStop } from '../temporal-client/send-message.ts';
import type { PendingApproval } from '../core/conversation.ts';
import { summarise } from '../core/run-events.ts';
import { followTurn } from './follow-turn.ts';
import { formatEvent } from './format.ts';
import { lineReader } from './lines.ts';
import { openSession } from './session.ts';

// `npm run chat -- --resume terminal:<id>` (or just the id) continues a conversation.
const resumeAt = process.argv.indexOf('--resume');
const resumed = resumeAt >= 0 ? process.argv[resumeAt + 1]?.replace(/^terminal:/, '') : undefined;
if (resumeAt >= 0 && !resumed) {
  console.error('Usage: npm run chat -- --resume <conversation id, as the chat printed it>');
  process.exit(2);
}
const runtime = await openSession(process.env, { program: 'chat', persist: true });
const agent = runtime.agent;
const session = resumed ?? crypto.randomUUID();
const conversationId = `terminal:${session}`;
const me = { id: userInfo().username || 'you' };
const terminal = createInterface({ input: process.stdin, output: process.stdout });
const lines = lineReader(terminal);
console.error(
  `Chat with the ${agent} agent: conversation ${conversationId}${resumed ? ' (resumed)' : ''}, each message a turn. Ctrl-C stops a turn; Ctrl-D or "exit" quits; \`npm run chat -- --resume ${session}\` continues it later.`,
);

let turnRunning = false;
const shutdown = async () => {
  terminal.close();
  await runtime.close();
  process.exit(0);
};
const interrupt = () => {
  if (!turnRunning) return void shutdown();
  void sendStop(runtime.client, conversationId, { by: me.id }).then(
    () => console.error('  · stopping the turn…'),
    (error: unknown) => console.error(`  · could not stop: ${(error as Error).message}`),
  );
};
terminal.on('SIGINT', interrupt);
process.on('SIGINT', interrupt);

// The worker in this process hands approval requests straight here; followTurn also finds them by query.
const asked = new Set<string>();
async function askApproval(request: Pick<PendingApproval, 'requestId' | 'tool' | 'args' | 'expiresAt'>): Promise<void> {
  if (asked.has(request.requestId)) return;
  asked.add(request.requestId);
  const until = new Date(request.expiresAt).toLocaleTimeString();
  const line = await lines.ask(
    `  ? ${request.tool}(${summarise(JSON.stringify(request.args), 160)}) needs your approval (until ${until}). Approve? [y/N] `,
  );
  const decision = /^\s*y(es)?\s*$/i.test(line ?? '') ? 'approve' : 'deny';
  try {
    await sendApproval(runtime.client, conversationId, { requestId: request.requestId, decision, approver: me.id });
  } catch (error) {
    console.error(`  · the decision was not taken: ${(error as { cause?: Error }).cause?.message ?? (error as Error).message}`);
  }
}
runtime.terminal?.subscribe(session, (reply) => {
  if (reply.kind === 'approval') void askApproval(reply.request);
});

for (;;) {
  const line = (await lines.ask('you> '))?.trim();
  if (line === undefined || line === 'exit' || line === 'quit') break;
  if (!line) continue;
  try {
    const message = { id: crypto.randomUUID(), text: line, user: me, receivedAt: new Date().toISOString() };
    const { turn } = await sendMessage(runtime.client, {
      conversationId,
      taskQueue: runtime.taskQueue,
      message,
      start: { agent, channel: { kind: 'terminal', session } },
    });
    turnRunning = true;
    const outcome = await followTurn({
      client: runtime.client,
      conversationId,
      turn,
      onEvent: (event) => {
        const progress = formatEvent(event);
        if (progress) console.error(progress);
      },
      onApproval: askApproval,
    });
    console.log(`agent> ${outcome.answer ?? outcome.summary.answerExcerpt ?? `(turn ${outcome.summary.status})`}`);
  } catch (error) {
    console.error(`The message was not delivered: ${(error as Error).message}`);
  } finally {
    turnRunning = false;
  }
}
await shutdown();
