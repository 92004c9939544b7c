import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { findTemporalCli, startDevServer } from '../../local/temporal-dev-server.ts';
import { startGeminiServer } from '../../local/gemini-server.ts';
import { startSlackApiServer } from '../../local/slack-api-server.ts';
import { createCachedStore } from '../../store/cached-store.ts';
import { createLocalDirectoryStore } from '../../store/local-directory-store.ts';
import { createAgentWorker } from '../../worker/create-worker.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { replayAgents, replayTools, respond, scenarios } from './scenarios.ts';

/**
 * `npm run record-histories [scenario…]`: runs the replay scenarios on a fresh dev server and
 * writes each recorded execution to test/replay/histories/<name>.json. Re-record after an
 * intended change to workflow code has been made replay-safe (patched) or when no history
 * of the old code can still be running.
 */
export const HISTORIES_DIRECTORY = fileURLToPath(new URL('./histories/', import.meta.url));

const only = process.argv.slice(2);
Runtime.install({ logger: new DefaultLogger('WARN') });
const server = await startDevServer({ executable: findTemporalCli(process.env) });
const model = await startGeminiServer({ respond });
const slack = await startSlackApiServer({ tokens: ['xoxb-replay'] });
const taskQueue = `replay-${crypto.randomUUID()}`;
const store = createCachedStore(createLocalDirectoryStore({ directory: mkdtempSync(join(tmpdir(), 'replay-transcripts-')) }));
const worker = await createAgentWorker({
  connection: server.env.nativeConnection,
  taskQueue,
  tools: replayTools,
  agents: replayAgents,
  model: { apiKey: 'replay', baseUrl: model.url, store },
  replyAdapters: {
    slack: createSlackReplyAdapter({
      client: createSlackWebClient({ token: 'xoxb-replay', apiUrl: slack.url }),
      approvalTokenSecret: 'replay-approval-secret',
    }),
  },
});
const running = worker.run();
let failed = false;
try {
  mkdirSync(HISTORIES_DIRECTORY, { recursive: true });
  for (const [scenario, run] of Object.entries(scenarios)) {
    if (only.length > 0 && !only.includes(scenario)) continue;
    for (const file of readdirSync(HISTORIES_DIRECTORY)) {
      if (file === `${scenario}.json` || file.startsWith(`${scenario}.`)) rmSync(join(HISTORIES_DIRECTORY, file));
    }
    const recorded = await run({ client: server.env.client, taskQueue });
    for (const { name, workflowId, runId } of recorded) {
      const history = await server.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      // protobufjs's own JSON form (enum names, base64 bytes); History.fromObject reads it back.
      const json = { workflowId, history: proto.temporal.api.history.v1.History.fromObject(history).toJSON() };
      writeFileSync(join(HISTORIES_DIRECTORY, `${name}.json`), `${JSON.stringify(json, null, 1)}\n`);
      console.error(`recorded ${name} (${history.events?.length ?? 0} events)`);
    }
  }
} catch (error) {
  console.error(error);
  failed = true;
} finally {
  worker.shutdown();
  await running;
  await model.close();
  await slack.close();
  await server.stop();
}
process.exit(failed ? 1 : 0);
