import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleFetch, consoleState, eventually, startStackProcess, type StackProcess } from '../../testkit/stack-process.ts';
import { noTemporal } from '../../testkit/temporal.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'stack-crash-'));
let stack: StackProcess | undefined;

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The dev servers running on this test's database. */
function devServersOnData(): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(' start-dev ') && line.includes(join(dataDir, 'temporal.db')))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe.skipIf(noTemporal)('npm start killed with SIGKILL during a turn', () => {
  it('finishes that turn after a restart, and its answer appears once', async () => {
    // Each model call takes 3 s, so the kill lands while the first one is in flight.
    const env = { OFFLINE_MODEL_DELAY_MS: '3000' };
    stack = await startStackProcess({ dataDir, env });
    const posted = await consoleFetch(stack, '/api/slack/messages', { channel: 'C0OPS', text: 'What time is it in Berlin?' });
    expect(posted.status).toBe(200);
    const { ts } = (await posted.json()) as { ts: string };
    const url = { url: stack.url, token: stack.token };
    // The turn has begun: the agent's first message (a task card, or the answer streaming) is in the thread.
    await eventually(
      async () => ((await consoleState(url)).slack.some((message) => message.threadTs === ts && message.botId) ? true : undefined),
      30_000,
      'the turn to start',
    );
    await stack.kill();
    // The dev server outlives its killed owner, holding the database, until the next start stops it.
    expect(devServersOnData()).toHaveLength(1);

    stack = await startStackProcess({ dataDir, env });
    expect(devServersOnData()).toHaveLength(1);
    const restarted = { url: stack.url, token: stack.token };
    const answers = await eventually(
      async () => {
        const thread = (await consoleState(restarted)).slack.filter((message) => message.threadTs === ts && message.botId);
        const answered = thread.filter((message) => message.text.includes('Europe/Berlin'));
        return answered.length > 0 ? answered : undefined;
      },
      90_000,
      'the answer after the restart',
    );
    // A moment more: a duplicate would come from a retried reply activity.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const thread = (await consoleState(restarted)).slack.filter((message) => message.threadTs === ts);
    expect(answers).toHaveLength(1);
    expect(thread.filter((message) => message.text.includes('Europe/Berlin'))).toHaveLength(1);
    expect(thread.filter((message) => message.user !== 'U0LOCALBOT')).toHaveLength(0);
  }, 240_000);
});
