import { createInterface } from 'node:readline/promises';
import type { Content } from '../core/spec.ts';
import { ask, openSession } from './session.ts';

const runtime = await openSession();
const terminal = createInterface({ input: process.stdin, output: process.stdout });
const history: Content[] = [];
console.error('Chat with the agent. Each message is a durable run. Ctrl-D or "exit" quits.');

const shutdown = async () => {
  terminal.close();
  await runtime.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());

for (;;) {
  let line: string;
  try {
    line = (await terminal.question('you> ')).trim();
  } catch {
    break;
  }
  if (line === 'exit' || line === 'quit') break;
  if (!line) continue;
  try {
    const result = await ask(runtime, line, history);
    console.log(`agent> ${result.answer}`);
    history.push({ role: 'user', parts: [{ text: line }] }, { role: 'model', parts: [{ text: result.answer }] });
  } catch (error) {
    console.error(`The run failed: ${(error as Error).message}`);
  }
}
await shutdown();
