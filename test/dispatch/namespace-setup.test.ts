import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingSearchAttributes, registerSearchAttributesHint } from '../../temporal-client/search-attribute-check.ts';
import { createDispatchBatchHandler } from '../../functions/dispatch/dispatch-batch.ts';
import { createTemporalClientProvider, type TemporalClientProvider } from '../../functions/dispatch/temporal-client.ts';
import { findTemporalCli, startDevServer, type DevServer } from '../../local/temporal-dev-server.ts';
import { dispatchConfig, slackMessageEvent, sqsRecord } from './support.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { TEST_PAYLOAD_KEYS_JSON } from '../../testkit/payload-keys.ts';
import { runToExit } from '../../testkit/worker-process.ts';

const WORKER_MAIN = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));
const EVERY_ATTRIBUTE = [
  'AgentName=Keyword',
  'ChannelKind=Keyword',
  'TriggerKind=Keyword',
  'Outcome=Keyword',
  'ApprovalWaitingSince=Datetime',
];

/**
 * A namespace nobody registered the search attributes on (a first Temporal Cloud deploy that
 * skipped the step): the worker says so in one line and does not start; the dispatcher keeps
 * every message for a retry instead of dropping it as a bad request.
 */
describe.skipIf(noTemporal)('a namespace without the search attributes', () => {
  let server: DevServer;
  let provider: TemporalClientProvider | undefined;
  beforeAll(async () => {
    server = await startDevServer({ executable: findTemporalCli(process.env), registerSearchAttributes: false });
  }, 60_000);
  afterAll(async () => {
    await provider?.close();
    await server?.stop();
  });

  it('names each missing attribute, and the commands that register them', async () => {
    const missing = await missingSearchAttributes(server.env.connection.operatorService, 'default');
    expect(missing).toEqual(EVERY_ATTRIBUTE);
    const hint = registerSearchAttributesHint('default', missing!);
    expect(hint).toContain('tcld namespace search-attributes add --namespace <namespace>.<account> --search-attribute "AgentName=Keyword"');
    expect(hint).toContain('temporal operator search-attribute create --namespace default --name AgentName --type Keyword');
    expect(hint).toContain('--name ApprovalWaitingSince --type Datetime');
  });

  it('keeps the worker from starting, with one line and no stack trace', async () => {
    const { code, output } = await runToExit([WORKER_MAIN], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: `no-attributes-${crypto.randomUUID()}`,
        SCHEDULES_SYNC_AT_START: 'false',
        GOOGLE_API_KEY: 'test-key',
        PAYLOAD_KEYS: TEST_PAYLOAD_KEYS_JSON,
        TRANSCRIPT_DIR: mkdtempSync(join(tmpdir(), 'no-attributes-')),
      },
    });
    expect(code, output).toBe(1);
    expect(output.trim().split('\n'), output).toHaveLength(1);
    expect(output).toMatch(
      /^Worker not started\. The namespace "default" lacks the search attributes AgentName=Keyword, .*ApprovalWaitingSince=Datetime: register them/,
    );
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toMatch(/Worker polling/);
  });

  it('leaves a message for a retry (and then the DLQ) instead of dropping it as refused', async () => {
    provider = createTemporalClientProvider({ env: { TEMPORAL_ADDRESS: server.address }, connectTimeoutMs: 1500 });
    const logs: Record<string, unknown>[] = [];
    const handler = createDispatchBatchHandler({
      config: dispatchConfig(`no-attributes-${crypto.randomUUID()}`),
      temporal: provider,
      log: (fields) => logs.push(fields),
    });
    const record = sqsRecord(slackMessageEvent({ text: 'hello' }));
    const response = await handler({ Records: [record] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ msg: 'delivery failed, will retry', error: 'NamespaceNotReady' });
    // The server names the first it meets (in no set order).
    expect(String(logs[0]!.detail)).toMatch(/search attribute (AgentName|ChannelKind|TriggerKind)/);
  });
});

describe.skipIf(noTemporal)('a namespace with the search attributes', () => {
  const temporal = useTemporal();

  it('lacks none (each of the right type)', async () => {
    expect(await missingSearchAttributes(temporal.connection.operatorService, 'default')).toEqual([]);
  });

  it('is not checked, and not refused, when the list cannot be read', async () => {
    expect(await missingSearchAttributes(temporal.connection.operatorService, `no-such-namespace-${crypto.randomUUID()}`)).toBeUndefined();
  });
});
