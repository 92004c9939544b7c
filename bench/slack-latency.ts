import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';
import { slackConversationId } from '../events/inbound-event.ts';
import { appMentionEnvelope } from '../local/slack-events.ts';
import { slackPost } from '../testkit/ingress.ts';
import { answerText, faultScript, markerName, markerOf } from './faults/script.ts';
import { BOT, CHANNEL, PERSON, TEAM, startFaultStack } from './faults/stack.ts';
import { percentile, round, table } from './report.ts';
import { HOPS, eventTime, historyMoments, type AllMoments, type HistoryMoments } from './slack-hops.ts';

/**
 * What a person in Slack waits for beyond the model's own time, on the local stack of
 * `npm run faults` (the Slack edge's app, SQS in moto, the dispatcher and the worker as their
 * own processes, the Slack stand-in) with a model that answers at once, at 1 and 10 messages a
 * second. Each message asks for one tool (an IP lookup) and gets a one-tool answer. Four
 * moments per message: the edge's 200, the first thing the bot shows in the thread (status or
 * session), the answer's first characters, the finished answer; and Temporal's share of each
 * interval, read from the conversation's and the turn's histories (time tasks waited between
 * scheduled and started: the server's dispatch, what a faster hop elsewhere cannot remove).
 */

export interface SlackLatencyBenchOptions {
  /** Messages per second. @default [1, 10] */
  rates?: number[];
  /** Seconds of traffic at each rate. @default 5 */
  seconds?: number;
  log?: (line: string) => void;
}

const { EventType } = proto.temporal.api.enums.v1;
type Event = temporal.api.history.v1.IHistoryEvent;

const GOALS = {
  status_after_200_p50_ms: 300,
  status_after_200_p99_ms: 1000,
  first_characters_after_model_chunk_p50_ms: 50,
  finished_after_200_p50_ms: 400,
} as const;

interface Moments {
  marker: string;
  rootTs: string;
  sentAt: number;
  acceptedAt?: number;
  statusAt?: number;
  firstCharsAt?: number;
  finishedAt?: number;
  /** The model request that produced the answer (the stand-in answers at once: its first chunk). */
  answerModelAt?: number;
  /** When Temporal first saw the message (the conversation's update accepted, or its start). */
  temporalSawAt?: number;
  temporalShareToStatusMs?: number;
  temporalShareToFinishedMs?: number;
  /** The moments in between, from the histories (`slack-hops.ts`). */
  history?: HistoryMoments;
}

export async function runSlackLatencyBench(options: SlackLatencyBenchOptions = {}): Promise<{ section: unknown; text: string }> {
  const rates = options.rates ?? [1, 10];
  const seconds = options.seconds ?? 5;
  const log = options.log ?? (() => undefined);
  const loadBefore = loadavg();
  const runDir = mkdtempSync(join(tmpdir(), 'bench-slack-latency-'));
  const byThread = new Map<string, Moments>();
  const byMarker = new Map<string, Moments>();
  log('slack-latency: starting the local stack (moto, dev server, worker, dispatcher, stand-ins)');
  const stack = await startFaultStack({ runDir, script: faultScript, log: (line) => log(`slack-latency: ${line}`) });
  stack.controls.onModelRequest = (request) => {
    const moments = byMarker.get(markerOf(request) ?? '');
    // The last request of a turn is the one that writes the answer.
    if (moments) moments.answerModelAt = Date.now();
  };
  stack.controls.recordSlack = (message) => {
    const moments = byThread.get(message.threadTs ?? message.ts);
    if (!moments || message.user === PERSON) return;
    const now = Date.now();
    moments.statusAt ??= now;
    if (message.text.includes('ANSWER')) moments.firstCharsAt ??= now;
    if (message.text.includes(answerText(moments.marker))) moments.finishedAt ??= now;
  };
  const results: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  const hopRows: (string | number)[][] = [];
  const cpuRows: (string | number)[][] = [];
  let sequence = 0;
  try {
    for (const rate of rates) {
      const count = Math.max(5, Math.round(rate * seconds));
      log(`slack-latency: ${count} messages at ${rate}/s`);
      const sent: Moments[] = [];
      const sends: Promise<void>[] = [];
      const cpuBefore = processCpuMs();
      for (let index = 0; index < count; index += 1) {
        const marker = markerName(++sequence + 5000);
        const question = `${marker} where is ${marker}?`;
        const rootTs = stack.slack.addUserMessage({ channel: CHANNEL, user: PERSON, text: `<@${BOT}> ${question}` });
        const moments: Moments = { marker, rootTs, sentAt: Date.now() };
        byThread.set(rootTs, moments);
        byMarker.set(marker, moments);
        sent.push(moments);
        const envelope = JSON.stringify(
          appMentionEnvelope(
            { teamId: TEAM, botUserId: BOT, appId: 'A0LATENCY' },
            { eventId: `Ev${marker}`, user: PERSON, channel: CHANNEL, ts: rootTs, text: question },
          ),
        );
        sends.push(
          fetch(`${stack.edgeUrl}/slack/events`, slackPost(envelope)).then(async (response) => {
            await response.arrayBuffer();
            if (response.ok) moments.acceptedAt = Date.now();
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
      }
      await Promise.all(sends);
      const deadline = Date.now() + 60_000;
      while (sent.some((moments) => moments.finishedAt === undefined) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const cpu = cpuSince(cpuBefore, count);
      for (const moments of sent) await addTemporalShares(stack.temporal.client(), moments);
      const summary = summarise(sent);
      const total = Object.values(cpu).reduce((sum, ms) => sum + ms, 0);
      // Cores the stack keeps busy at this rate, had it kept up: past the machine's, the queues before each hop grow.
      results[`at_${rate}_per_second`] = {
        messages: count,
        ...summary,
        cpu_ms_per_message: { ...cpu, total: round(total) },
        cores_needed: round((total * rate) / 1000, 2),
      };
      cpuRows.push([rate, ...CPU_PROCESSES.map((name) => cpu[name] ?? ''), round(total), round((total * rate) / 1000, 2), cpus().length]);
      rows.push(...rowsOf(rate, summary));
      hopRows.push(...hopRowsOf(rate, summary.hops));
    }
  } finally {
    await stack.close();
    rmSync(runDir, { recursive: true, force: true });
  }
  const section = {
    goals: GOALS,
    ...results,
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', node: process.version },
    load_average: { before: loadBefore.map((value) => round(value, 2)), after: loadavg().map((value) => round(value, 2)) },
    about:
      "npm run faults' local stack (edge app, moto SQS, dispatcher and worker processes, Slack stand-in), a model answering at once; Temporal's share: time the conversation's and turn's tasks waited between scheduled and started inside each interval; the machine is shared",
  };
  const text = [
    table(
      `Slack, one-tool answers, model time zero (${seconds} s at each rate)`,
      ['rate /s', 'interval', 'p50 ms', 'p99 ms', "Temporal's share p50 ms", 'goal'],
      rows,
    ),
    table(
      'Hop by hop (each from the moment before it; the status and the turn branch at the update completed)',
      ['rate /s', 'hop', 'p50 ms', 'p99 ms'],
      hopRows,
    ),
    table(
      'CPU per message, by process (ms; the bench process holds the edge, the Slack and model stand-ins), and the cores the rate needs',
      ['rate /s', ...CPU_PROCESSES, 'total', 'cores needed', 'cores'],
      cpuRows,
    ),
  ].join('\n\n');
  return { section, text };
}

interface Figures {
  p50: number;
  p99: number;
}

function figures(values: number[]): Figures {
  return { p50: round(percentile(values, 50)), p99: round(percentile(values, 99)) };
}

function summarise(sent: Moments[]) {
  const done = sent.filter((moments) => moments.acceptedAt !== undefined);
  const of = (pick: (moments: Moments) => number | undefined) =>
    figures(done.map(pick).filter((value): value is number => value !== undefined && Number.isFinite(value)));
  return {
    answered: done.filter((moments) => moments.finishedAt !== undefined).length,
    edge_200_ms: of((moments) => moments.acceptedAt! - moments.sentAt),
    // The hop Temporal does not see: the queue (SQS) and the dispatcher's receive.
    queue_and_dispatcher_ms: of((moments) =>
      moments.temporalSawAt === undefined ? undefined : moments.temporalSawAt - moments.acceptedAt!,
    ),
    status_after_200_ms: of((moments) => (moments.statusAt === undefined ? undefined : moments.statusAt - moments.acceptedAt!)),
    status_temporal_share_ms: of((moments) => moments.temporalShareToStatusMs),
    first_characters_after_model_chunk_ms: of((moments) =>
      moments.firstCharsAt === undefined || moments.answerModelAt === undefined ? undefined : moments.firstCharsAt - moments.answerModelAt,
    ),
    finished_after_200_ms: of((moments) => (moments.finishedAt === undefined ? undefined : moments.finishedAt - moments.acceptedAt!)),
    finished_temporal_share_ms: of((moments) => moments.temporalShareToFinishedMs),
    hops: Object.fromEntries(
      HOPS.map((hop) => [
        hop.key,
        of((moments) => {
          const all: AllMoments = {
            ...moments.history,
            accepted: moments.acceptedAt,
            ...(moments.statusAt !== undefined ? { statusVisible: moments.statusAt } : {}),
            ...(moments.finishedAt !== undefined ? { finished: moments.finishedAt } : {}),
          };
          const from = all[hop.from];
          const to = all[hop.to];
          return from === undefined || to === undefined ? undefined : to - from;
        }),
      ]),
    ) as Record<string, Figures>,
  };
}

function hopRowsOf(rate: number, hops: Record<string, Figures>): (string | number)[][] {
  return HOPS.map((hop) => [rate, hop.label, hops[hop.key]?.p50 ?? '', hops[hop.key]?.p99 ?? '']);
}

/** The stack's processes, by what they run: the bench's children, and the bench itself. */
const CPU_PROCESSES = ['worker', 'temporal', 'dispatcher', 'moto', 'bench'] as const;

/** CPU time used so far by each of the stack's processes (Linux /proc; empty elsewhere). */
function processCpuMs(): Record<string, number> {
  const used: Record<string, number> = {};
  const add = (name: string, ms: number) => (used[name] = (used[name] ?? 0) + ms);
  const usage = process.cpuUsage();
  add('bench', (usage.user + usage.system) / 1000);
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return used;
  }
  for (const pid of children) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      // utime and stime, in clock ticks (100 a second on Linux), after the command name's closing parenthesis.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * 10;
      const [program = '', script = ''] = command.split('\0');
      const name = program.endsWith('temporal')
        ? 'temporal'
        : command.includes('moto')
          ? 'moto'
          : script.endsWith('dispatch.ts')
            ? 'dispatcher'
            : script.includes('worker')
              ? 'worker'
              : undefined;
      if (name) add(name, ms);
    } catch {
      // Gone meanwhile.
    }
  }
  return used;
}

function cpuSince(before: Record<string, number>, messages: number): Record<string, number> {
  const after = processCpuMs();
  return Object.fromEntries(Object.entries(after).map(([name, ms]) => [name, round((ms - (before[name] ?? 0)) / messages)]));
}

function rowsOf(rate: number, summary: ReturnType<typeof summarise>): (string | number)[][] {
  return [
    [rate, "edge's 200 (after the POST)", summary.edge_200_ms.p50, summary.edge_200_ms.p99, 0, 'Slack: < 3000'],
    [rate, '200 → Temporal sees it (queue, dispatcher)', summary.queue_and_dispatcher_ms.p50, summary.queue_and_dispatcher_ms.p99, 0, ''],
    [
      rate,
      '200 → status visible',
      summary.status_after_200_ms.p50,
      summary.status_after_200_ms.p99,
      summary.status_temporal_share_ms.p50,
      `p50 ≤ ${GOALS.status_after_200_p50_ms}, p99 ≤ ${GOALS.status_after_200_p99_ms}`,
    ],
    [
      rate,
      "model's first chunk → first characters",
      summary.first_characters_after_model_chunk_ms.p50,
      summary.first_characters_after_model_chunk_ms.p99,
      '',
      `≤ ${GOALS.first_characters_after_model_chunk_p50_ms}`,
    ],
    [
      rate,
      '200 → finished answer',
      summary.finished_after_200_ms.p50,
      summary.finished_after_200_ms.p99,
      summary.finished_temporal_share_ms.p50,
      `p50 ≤ ${GOALS.finished_after_200_p50_ms}`,
    ],
  ];
}

/** Time the conversation's and the turn's tasks waited in Temporal (scheduled → started) within each interval. */
async function addTemporalShares(client: Client, moments: Moments): Promise<void> {
  const conversationId = slackConversationId(TEAM, CHANNEL, moments.rootTs);
  const [conversation, turn] = await Promise.all(
    [conversationId, `${conversationId}/turn-1`].map((workflowId) =>
      client.workflow
        .getHandle(workflowId)
        .fetchHistory()
        .then((history) => history.events ?? [])
        // Not there (the message never reached Temporal): no share to report.
        .catch((): Event[] => []),
    ),
  );
  const events = [...conversation!, ...turn!];
  moments.history = historyMoments(conversation!, turn!);
  const time = eventTime;
  const first = events.find(
    (event) =>
      event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED ||
      event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
  );
  if (first) moments.temporalSawAt = time(first);
  const scheduledAt = new Map<string, number>();
  const waits: { from: number; to: number }[] = [];
  for (const event of events) {
    if (
      event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED ||
      event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    )
      scheduledAt.set(String(event.eventId), time(event));
    const scheduledId =
      event.workflowTaskStartedEventAttributes?.scheduledEventId ?? event.activityTaskStartedEventAttributes?.scheduledEventId;
    if (scheduledId !== undefined && scheduledId !== null && scheduledAt.has(String(scheduledId)))
      waits.push({ from: scheduledAt.get(String(scheduledId))!, to: time(event) });
  }
  const within = (start: number, end: number) =>
    waits.reduce((sum, wait) => sum + Math.max(0, Math.min(wait.to, end) - Math.max(wait.from, start)), 0);
  // Temporal's part also counts the update's way in: from the 200 on, until Temporal recorded it, minus the queue's hop is not ours to split; only the server's task waits count here.
  if (moments.acceptedAt !== undefined && moments.statusAt !== undefined)
    moments.temporalShareToStatusMs = within(moments.acceptedAt, moments.statusAt);
  if (moments.acceptedAt !== undefined && moments.finishedAt !== undefined)
    moments.temporalShareToFinishedMs = within(moments.acceptedAt, moments.finishedAt);
}
