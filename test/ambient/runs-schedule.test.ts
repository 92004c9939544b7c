import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredSchedule } from '../../temporal-client/schedule-spec.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { startGeminiServer, type GeminiServer } from '../../local/gemini-server.ts';
import { offlineModel } from '../../local/offline-model.ts';
import { startSlackApiServer, type SlackApiServer } from '../../local/slack-api-server.ts';
import { createAmbientMemoryStore } from '../../store/ambient-memory.ts';
import { createMemoryRecordFiles } from '../../store/record-files.ts';
import { createSlackWebClient } from '../../worker/replies/slack-client.ts';
import { createSlackReplyAdapter } from '../../worker/replies/slack.ts';
import { noTemporal, useTemporal } from '../../testkit/temporal.ts';
import { textsOf } from './runs-support.ts';

const TOKEN = 'xoxb-ambient-schedule';
const CHANNEL = 'C0TICK';

/** Each run's check sees the cursor the last one handed on, and hands on the next number. */
const seenCursors: (string | undefined)[] = [];
const ticker = defineAgent({
  name: 'ticker',
  instructions: 'Report the tick.',
  check: async ({ cursor }) => {
    seenCursors.push(cursor);
    const next = Number(cursor ?? 0) + 1;
    return { quiet: false, cursor: String(next), context: `Tick ${next}:\n- tick ${next} happened` };
  },
  triggers: [{ id: 'tick', every: '1 minute', prompt: 'Report the tick.', deliver: { kind: 'slack', channel: CHANNEL } }],
});

describe.skipIf(noTemporal)('an ambient schedule firing on its own', () => {
  const temporal = useTemporal();
  let slack: SlackApiServer;
  let model: GeminiServer;
  let scheduleId: string | undefined;

  beforeAll(async () => {
    slack = await startSlackApiServer({ tokens: [TOKEN] });
    model = await startGeminiServer({ respond: offlineModel });
  });
  afterAll(async () => {
    if (scheduleId)
      await temporal.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    await slack?.close();
    await model?.close();
  });

  it("runs at least twice; the second run gets the first run's cursor (the schedule's last result) and memory", async () => {
    const taskQueue = temporal.taskQueue('ambient-schedule');
    const memory = createAmbientMemoryStore(createMemoryRecordFiles());
    await temporal.startWorker({
      taskQueue,
      tools: [],
      agents: [ticker],
      modelUrl: model.url,
      ambientMemory: memory,
      replyAdapters: {
        slack: createSlackReplyAdapter({
          client: createSlackWebClient({ token: TOKEN, apiUrl: slack.url }),
          approvalTokenSecret: 'schedule-secret',
        }),
      },
    });
    // The schedule sync would create, with a seconds-scale interval: triggers allow no less than a minute.
    const desired = desiredSchedule(ticker.name, ticker.triggers[0]!, { taskQueue });
    scheduleId = `${desired.id}:${crypto.randomUUID()}`;
    await temporal.client.schedule.create({ ...desired.options, scheduleId, spec: { intervals: [{ every: '2 seconds' }] } });

    await expect
      .poll(async () => (await memory.load(ticker.name, 'tick'))?.runs ?? 0, { timeout: 30_000, interval: 250 })
      .toBeGreaterThanOrEqual(2);
    await temporal.client.schedule.getHandle(scheduleId).pause('test done');

    expect(seenCursors.slice(0, 2)).toEqual([undefined, '1']);
    const prompts = model.requests
      .map((request) => textsOf(request, 'user')[0] ?? '')
      .filter((text) => text.startsWith('[Scheduled run of trigger "tick"'));
    expect(prompts[0]).toContain('This is the first run of this trigger.');
    expect(prompts[1]).toContain('you reported: **Tick 1:** - tick 1 happened');
    expect(
      slack
        .messages(CHANNEL)
        .slice(0, 2)
        .map((message) => message.text.split('\n')[0]),
    ).toEqual(['*Tick 1:*', '*Tick 2:*']);
  });
});
