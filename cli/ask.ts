import { ask, openSession } from './session.ts';

const question = process.argv.slice(2).join(' ').trim();
if (!question) {
  console.error('Usage: npm run ask -- "What time is it in Tokyo?"');
  process.exit(2);
}

const runtime = await openSession(process.env, { program: 'ask' });
let code = 0;
try {
  const result = await ask(runtime, question);
  console.log(result.answer);
  console.error(
    `  · ${result.steps} model call(s), ${result.toolCalls} tool call(s), ${result.usage.totalTokens} tokens${result.usage.cost === undefined ? '' : ` ($${result.usage.cost.toFixed(4)})`}, stop: ${result.stopReason}`,
  );
} catch (error) {
  console.error(`The run failed: ${innermostMessage(error)}`);
  code = 1;
} finally {
  await runtime.close();
}
process.exit(code);

/** The innermost cause says what went wrong ("Gemini refused model …"); the wrappers only say where ("Workflow execution failed"). */
function innermostMessage(error: unknown): string {
  let current = error as { message?: string; cause?: unknown };
  while (current.cause && typeof current.cause === 'object') current = current.cause as typeof current;
  return current.message ?? String(error);
}
