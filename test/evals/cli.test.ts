import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { noTemporal } from '../../testkit/temporal.ts';
import { eventually, startStackProcess, type ConsoleSlackMessage, type StackProcess } from '../../testkit/stack-process.ts';

const ENTRY = fileURLToPath(new URL('../../cli/eval.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'eval-cli-data-'));
// Where the cases and results go: the command's working directory, as `npm run eval` at the project's root.
const project = mkdtempSync(join(tmpdir(), 'eval-cli-project-'));

/** `npm run eval -- <args>` (node cli/eval.ts, as the script runs it) in the project folder, offline. */
function evalCommand(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  delete env.GOOGLE_API_KEY;
  delete env.TEMPORAL_ADDRESS;
  // As npm start's: any payload keys are read from its data directory.
  delete env.PAYLOAD_KEYS;
  const child = spawn(process.execPath, [ENTRY, ...args], {
    cwd: project,
    env: { ...env, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** The console's API as its page calls it: at the printed address's origin, with its token when it prints one. */
function consoleApi(stack: StackProcess, path: string, body?: unknown): Promise<Response> {
  const printed = new URL(/Open the console: (http:\/\/\S+)/.exec(stack.output())![1]!);
  const headers: Record<string, string> = {
    'x-console-token': printed.searchParams.get('token') ?? '',
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  return fetch(`${printed.origin}${path}`, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) });
}

let stack: StackProcess | undefined;
afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(noTemporal)('npm run eval, from a console conversation to a regression caught', () => {
  it('exports a console thread, runs it back passing, and catches a prompt that stops the tool calls', { timeout: 300_000 }, async () => {
    stack = await startStackProcess({ dataDir });
    const posted = (await (
      await consoleApi(stack, '/api/slack/messages', { channel: 'C0GENERAL', text: 'What time is it in Tokyo right now?' })
    ).json()) as { ts: string };
    await eventually(
      async () => {
        const { slack } = (await (await consoleApi(stack!, '/api/state')).json()) as { slack: ConsoleSlackMessage[] };
        return slack.find((message) => message.threadTs === posted.ts && message.botId && message.text.includes('get_current_time'));
      },
      60_000,
      'the answer in the thread',
    );

    // Exported while `npm start` runs: the command joins its dev server and reads its transcripts.
    const conversationId = `slack:T0LOCAL:C0GENERAL:${posted.ts}`;
    const exported = await evalCommand(['export', conversationId]);
    expect(exported.code, exported.stderr).toBe(0);
    const caseFile = join(project, 'evals', 'assistant', `${`slack-t0local-c0general-${posted.ts}-turn-1`}.json`);
    expect(exported.stdout).toContain(`wrote evals/assistant/slack-t0local-c0general-${posted.ts}-turn-1.json  (get_current_time)`);
    const evalCase = JSON.parse(readFileSync(caseFile, 'utf8')) as { prompt: string; recorded: { toolCalls: { tool: string }[] } };
    expect(evalCase.prompt).toBe('What time is it in Tokyo right now?');
    expect(evalCase.recorded.toolCalls.map((call) => call.tool)).toEqual(['get_current_time']);
    await stack.stop();
    stack = undefined;

    const passed = await evalCommand(['run', 'assistant']);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stderr).toContain('[1/1] pass');
    expect(passed.stdout).toMatch(/assistant \(as defined\)\s+1\/1/);

    // The regression: a prompt that keeps the agent off its tools, compared with the baseline in one run.
    writeFileSync(join(project, 'no-tools.txt'), 'You are a helpful assistant. Never use any tools: answer from what you know.');
    writeFileSync(
      join(project, 'as-defined.txt'),
      (await import('../../agents/index.ts')).createAgentRegistry().get('assistant').instructions,
    );
    const compared = await evalCommand(['run', 'assistant', '--prompt-file', 'as-defined.txt', '--prompt-file', 'no-tools.txt']);
    expect(compared.code).toBe(1);
    expect(compared.stdout).toContain(
      `pass → FAIL: slack-t0local-c0general-${posted.ts}-turn-1: expected a call to get_current_time; the agent called no tool`,
    );
    expect(readdirSync(join(project, 'evals', 'results')).filter((name) => name.endsWith('.json'))).toHaveLength(3);

    // A malformed case stops the run before anything starts, naming the file and the field.
    writeFileSync(
      join(project, 'evals', 'assistant', 'bad.json'),
      JSON.stringify({ version: 1, id: 'bad', agent: 'assistant', prompt: '', expect: { maxSteps: 'two' } }),
    );
    const refused = await evalCommand(['run', 'assistant']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/bad\.json is not a valid eval case:\n {2}prompt: .*\n {2}expect\.maxSteps: /);
    expect(refused.stderr).not.toContain('    at ');
  });
});
