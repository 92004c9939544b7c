import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'stack-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `npm start` as its script runs it, with `env` on top of a small clean environment. */
function start(env: Record<string, string>, node = process.execPath) {
  const result = spawnSync(node, ['--import', './local/require-node-24.mjs', 'local/stack.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, CONSOLE_PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectOneLine(stderr: string, ...phrases: string[]) {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  for (const phrase of phrases) expect(stderr).toContain(phrase);
}

// Node 20 on this machine's /usr/bin; elsewhere another old Node may stand there, or none.
const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find(
  (path) =>
    existsSync(path) && Number(spawnSync(path, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout.trim()) < 24,
);

describe('npm start refuses in one line, naming the fix', () => {
  it.skipIf(!oldNode)('on a Node older than 24, before any .ts file is parsed', () => {
    const { code, stderr } = start({}, oldNode);
    expect(code).toBe(1);
    expectOneLine(stderr, 'needs Node 24 or newer', 'Install Node 24');
    expect(stderr).not.toContain('Unknown file extension');
  });

  it('with a TEMPORAL_ADDRESS nothing answers on', () => {
    const { code, stderr } = start({ TEMPORAL_ADDRESS: '127.0.0.1:9' });
    expect(code).toBe(1);
    expectOneLine(stderr, 'Cannot reach Temporal at TEMPORAL_ADDRESS=127.0.0.1:9 (connection refused)', 'unset TEMPORAL_ADDRESS');
  });

  it('with a malformed setting', () => {
    const { code, stderr } = start({ CONSOLE_PORT: 'eighty' });
    expect(code).toBe(1);
    expect(stderr).toContain('CONSOLE_PORT must be a port number');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('with payload keys it cannot use: a bad PAYLOAD_KEYS, a damaged key file', () => {
    const bad = start({ PAYLOAD_KEYS: JSON.stringify({ keys: [{ id: 'k1', key: 'c2hvcnQ=' }] }) });
    expect(bad.code).toBe(1);
    expectOneLine(bad.stderr, 'PAYLOAD_KEYS is not a payload key set: keys.0.key: a key is 32 bytes in base64');
    const damaged = join(mkdtempSync(join(tmpdir(), 'damaged-keys-')), 'data');
    mkdirSync(damaged);
    writeFileSync(join(damaged, 'payload-keys.json'), '{"keys": [');
    const result = start({ DATA_DIR: damaged });
    rmSync(damaged, { recursive: true, force: true });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, 'payload-keys.json is not JSON');
  });

  it('with no Temporal CLI, no Go, and no download', () => {
    // An empty HOME hides the cached CLI; a PATH of node alone hides `temporal` and `go`;
    // an unreachable proxy keeps the SDK's download from succeeding on a machine with internet.
    const home = mkdtempSync(join(tmpdir(), 'home-'));
    const proxy = 'http://127.0.0.1:9';
    const { code, stderr } = start({
      HOME: home,
      PATH: join(process.execPath, '..'),
      HTTPS_PROXY: proxy,
      https_proxy: proxy,
      HTTP_PROXY: proxy,
    });
    rmSync(home, { recursive: true, force: true });
    expect(code).toBe(1);
    expectOneLine(
      stderr,
      'No Temporal CLI',
      'Build it once with Go',
      'go install github.com/temporalio/cli/cmd/temporal@v1.5.1',
      'TEMPORAL_CLI_PATH',
    );
  }, 120_000);
});
