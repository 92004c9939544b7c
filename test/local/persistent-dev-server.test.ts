import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { startPersistentDevServer } from '../../local/persistent-dev-server.ts';
import { findTemporalCli } from '../../local/temporal-dev-server.ts';

const cli = findTemporalCli(process.env);

describe.skipIf(!cli)("the local stack's dev server (npm start, npm run faults)", () => {
  it('keeps its database in write-ahead-log mode, so a commit does not wait for the disk and readers do not wait for writers', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'persistent-dev-server-'));
    const server = await startPersistentDevServer({ dataDir, owner: 'test', ui: false, ...(cli ? { executable: cli } : {}) });
    try {
      await server.client.workflowService.getSystemInfo({});
      const database = new DatabaseSync(join(dataDir, 'temporal.db'), { readOnly: true });
      try {
        // journal_mode is kept in the file itself once set to WAL; SQLite's default is 'delete'.
        expect(database.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
      } finally {
        database.close();
      }
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
