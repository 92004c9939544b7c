import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { afterAll, describe, expect, it } from 'vitest';
import { createEncryptionCodec, ENCRYPTED_ENCODING } from '../../temporal-client/payload-encryption.ts';
import { localPayloadKeys } from '../../local/payload-keys.ts';
import { consoleFetch, consoleState, eventually, startStackProcess, type StackProcess } from '../../testkit/stack-process.ts';
import { noTemporal } from '../../testkit/temporal.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'encrypted-history-'));
let stack: StackProcess | undefined;
let connection: Connection | undefined;

afterAll(async () => {
  await connection?.close();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

// What a person wrote, a tool's argument and a sender's address: none may reach Temporal in clear.
const SLACK_TEXT = 'Please submit an expense claim of 250 EUR for a periwinkle-monitor';
const MAIL_TEXT = 'What time is it in Lisbon? Signed, the aubergine-committee';
const SENDER = 'dana.scully@example.com';
// A tool that fails quoting its input: the failure's message is encoded, so encrypted, too.
const FAILING_TEXT = 'What time is it in Tangerine/Zeppelin_base?';
const SECRETS = ['periwinkle-monitor', 'aubergine-committee', SENDER, 'dana.scully', 'Zeppelin_base'];

/** Every payload in a proto message tree (event attributes, memos, failures' details). */
function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && 'metadata' in record) found.push(record as Payload);
  else for (const child of Object.values(record)) payloadsIn(child, found);
  return found;
}

describe.skipIf(noTemporal)("npm start's histories, read raw from the server", () => {
  it('hold no message text, tool argument or email address in clear, and the codec opens them', async () => {
    stack = await startStackProcess({ dataDir });
    // A Slack message whose tool call (an expense claim) waits for approval with its arguments.
    const posted = await consoleFetch(stack, '/api/slack/messages', { channel: 'C0GENERAL', text: SLACK_TEXT });
    expect(posted.status).toBe(200);
    const { ts } = (await posted.json()) as { ts: string };
    const failing = await consoleFetch(stack, '/api/slack/messages', { channel: 'C0OPS', text: FAILING_TEXT });
    expect(failing.status).toBe(200);
    const failingTs = ((await failing.json()) as { ts: string }).ts;
    // An email, whose conversation carries the sender's address.
    const mailed = await consoleFetch(stack, '/api/mail', {
      from: SENDER,
      to: 'assistant@agents.local',
      subject: 'Lisbon',
      text: MAIL_TEXT,
    });
    expect(mailed.status).toBe(200);
    await eventually(
      async () => {
        const state = await consoleState(stack!);
        const approval = state.slack.some(
          (message) => message.threadTs === ts && message.blocks?.some((block) => block.type === 'actions'),
        );
        const reply = state.mail.some((message) => message.direction === 'out' && message.text.includes('Europe/Lisbon'));
        const refused = state.slack.some((message) => message.threadTs === failingTs && message.text.includes('is not an IANA time zone'));
        return approval && reply && refused ? true : undefined;
      },
      120_000,
      'the approval request, the mail reply and the failed tool call',
    );

    // A client without the codec, as the server (or anyone reading it) sees the data.
    const { temporalAddress } = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { temporalAddress: string };
    connection = await Connection.connect({ address: temporalAddress });
    const raw = new Client({ connection });
    const listed = await raw.workflowService.listWorkflowExecutions({ namespace: 'default', pageSize: 1000 });
    const executions = listed.executions ?? [];
    // The conversations, their turns' runs and the ambient schedules' runs, if any.
    expect(executions.length).toBeGreaterThanOrEqual(4);

    const payloads: Payload[] = [];
    let clearBytes = '';
    for (const execution of executions) {
      // Search attributes stay in clear (the server indexes them): names only.
      clearBytes += Buffer.from(temporal.api.common.v1.SearchAttributes.encode(execution.searchAttributes ?? {}).finish()).toString(
        'latin1',
      );
      payloadsIn(execution.memo, payloads);
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await raw.workflowService.getWorkflowExecutionHistory({
          namespace: 'default',
          execution: execution.execution!,
          ...(nextPageToken ? { nextPageToken } : {}),
        });
        clearBytes += Buffer.from(temporal.api.history.v1.History.encode(page.history ?? {}).finish()).toString('latin1');
        payloadsIn(page.history, payloads);
        nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
      } while (nextPageToken);
    }
    for (const secret of SECRETS) expect(clearBytes, `"${secret}" in clear`).not.toContain(secret);
    // The workflow ids are in clear too: an email conversation's names its root Message-ID, never the sender.
    for (const secret of SECRETS) expect(executions.map((execution) => execution.execution?.workflowId).join(' ')).not.toContain(secret);

    // Every payload is sealed; opened with the stack's key file, the same history says it all.
    expect(payloads.length).toBeGreaterThan(10);
    // What stays in clear is the SDK's and Core's own bookkeeping and the search attributes'
    // values: trace headers, patch markers, local activity markers' data, names and times.
    const decode = (payload: Payload) => new TextDecoder().decode(payload.data ?? new Uint8Array());
    const clear = payloads
      .filter((payload) => new TextDecoder().decode(payload.metadata?.encoding ?? new Uint8Array()) !== ENCRYPTED_ENCODING)
      .map(decode);
    const BOOKKEEPING = [
      /^\{"traceparent":"[0-9a-f-]+"\}$/,
      /^\{"id":"[a-z0-9-]+","deprecated":(true|false)\}$/,
      /^\[("[a-z0-9-]+",?)*\]$/,
      // A local activity's marker header: its type (a tool's or the model's name), attempt and times.
      /^\{"seq":\d+,"attempt":\d+,"activity_id":"\d+","activity_type":"[\w:.-]+",/,
      /^"[\w:.-]{1,40}"$/,
    ];
    expect(clear.filter((text) => !BOOKKEEPING.some((pattern) => pattern.test(text)))).toEqual([]);
    expect(
      payloads.filter((payload) => new TextDecoder().decode(payload.metadata?.encoding ?? new Uint8Array()) === ENCRYPTED_ENCODING).length,
    ).toBeGreaterThan(10);
    const opened = await createEncryptionCodec(localPayloadKeys({}, dataDir)).decode(payloads);
    const openedText = opened.map((payload) => new TextDecoder().decode(payload.data ?? new Uint8Array())).join('\n');
    for (const secret of ['periwinkle-monitor', 'aubergine-committee', SENDER, 'Zeppelin_base']) expect(openedText).toContain(secret);
  }, 240_000);
});
