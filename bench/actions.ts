import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { AGENT_RUN_WORKFLOW } from '../core/run-events.ts';
import { localActivityOf } from '../core/local-activity-marker.ts';
import type { AgentRunInput } from '../workflows/agent-run.ts';
import { loadRecordedHistory, REPLAY_HISTORIES_DIR } from '../worker/workflow-bundle.ts';
import { billableActions, LIST_PRICE_USD_PER_MILLION_ACTIONS, priceUsd, sumActions, type ActionCount } from './billable-actions.ts';
import { startBenchEnvironment, startBenchWorkers } from './harness.ts';
import type { NaiveLoopInput } from './naive/workflows.ts';
import { round, table } from './report.ts';
import { createLoopTool, loopAgentSpec, loopPrompt, loopResponder } from './scripted-loop.ts';

export interface ActionsBenchOptions {
  /** Steps of the live runs, ours and the tutorial loop's side by side. @default [1, 10] */
  steps?: number[];
  log?: (line: string) => void;
}

type Event = temporal.api.history.v1.IHistoryEvent;

/** Recorded scenarios: the histories of one execution tree, and how many turns it holds. */
const SCENARIOS: { name: string; files: string[]; turns: number }[] = [
  {
    name: 'conversation, two turns (one model call each)',
    files: ['conversation-two-turns', 'conversation-two-turns.turn-1', 'conversation-two-turns.turn-2'],
    turns: 2,
  },
  { name: 'conversation, a turn with an approval', files: ['conversation-approval', 'conversation-approval.turn-1'], turns: 1 },
  { name: 'agent run: a tool, two model calls', files: ['agent-run-plain'], turns: 1 },
  { name: 'agent run: parallel tools', files: ['agent-run-parallel-tools'], turns: 1 },
  { name: 'agent run: a sub-agent', files: ['agent-run-sub-agent', 'agent-run-sub-agent.child'], turns: 1 },
  { name: 'agent run: an MCP tool', files: ['agent-run-mcp'], turns: 1 },
  { name: 'ambient run (quiet or posted)', files: ['ambient-run', 'ambient-run.run'], turns: 1 },
];

interface Row {
  what: string;
  turns: number;
  steps: number;
  actions: number;
  actions_per_turn: number;
  actions_per_step: number;
  usd_per_1000_turns: number;
  by_kind: ActionCount['byKind'];
}

/**
 * Billable Temporal Cloud Actions per turn and per step: from the recorded histories
 * (`test/replay/histories`), and from live runs of `agentRun` beside the tutorial loop
 * (`bench/naive/`) on a dev server, with the list price of 1,000 turns.
 */
export async function runActionsBench(options: ActionsBenchOptions = {}): Promise<{ section: unknown; text: string }> {
  const log = options.log ?? (() => undefined);
  const recorded: Row[] = SCENARIOS.map((scenario) => {
    const histories = scenario.files.map((file) => loadRecordedHistory(join(REPLAY_HISTORIES_DIR, `${file}.json`)).history.events ?? []);
    return rowOf(scenario.name, scenario.turns, histories);
  });
  const missing = readdirSync(REPLAY_HISTORIES_DIR).filter(
    (file) => !SCENARIOS.some((scenario) => scenario.files.includes(file.replace(/\.json$/, ''))),
  );
  if (missing.length) log(`actions: recorded histories not in a scenario: ${missing.join(', ')}`);

  const steps = options.steps ?? [1, 10];
  const tool = createLoopTool(1024);
  const environment = await startBenchEnvironment(loopResponder());
  const workers = await startBenchWorkers(environment, [tool]);
  const live: Row[] = [];
  try {
    for (const count of steps) {
      const spec = loopAgentSpec(tool, count + 5);
      const prompt = loopPrompt(count);
      log(`actions: ours, ${count} steps`);
      const oursInput: AgentRunInput = { spec, prompt };
      live.push(
        rowOf(`agentRun, ${count} step(s)`, 1, [await runHistory(environment.client, AGENT_RUN_WORKFLOW, oursInput, workers.taskQueue)]),
      );
      log(`actions: tutorial loop, ${count} steps`);
      const naiveInput: NaiveLoopInput = { spec, prompt, activityTaskQueue: workers.naiveTaskQueue };
      live.push(
        rowOf(`tutorial loop, ${count} step(s)`, 1, [
          await runHistory(environment.client, 'naiveAgentLoop', naiveInput, workers.taskQueue),
        ]),
      );
    }
  } finally {
    await workers.stop();
    await environment.close();
  }

  // A whole turn as a person causes it: the conversation's share of a turn (recorded) plus the
  // run at each step count (live).
  const conversation = recorded[0]!;
  const turnHistories = SCENARIOS[0]!.files
    .slice(1)
    .map((file) => loadRecordedHistory(join(REPLAY_HISTORIES_DIR, `${file}.json`)).history.events ?? []);
  const conversationShare = (conversation.actions - sumActions(turnHistories.map(billableActions)).total) / conversation.turns;
  const perStep = (name: string) => {
    const [first, last] = [
      live.find((row) => row.what === `${name}, ${steps[0]} step(s)`)!,
      live.find((row) => row.what === `${name}, ${steps.at(-1)} step(s)`)!,
    ];
    return round((last.actions - first.actions) / Math.max(1, last.steps - first.steps), 2);
  };
  const turns = steps.map((count) => {
    const ours = live.find((row) => row.what === `agentRun, ${count} step(s)`)!;
    const naive = live.find((row) => row.what === `tutorial loop, ${count} step(s)`)!;
    const oursTurn = conversationShare + ours.actions;
    return {
      steps: count,
      ours_turn_actions: oursTurn,
      ours_usd_per_1000_turns: round(priceUsd(oursTurn * 1000), 4),
      tutorial_loop_actions: naive.actions,
      tutorial_loop_usd_per_1000_turns: round(priceUsd(naive.actions * 1000), 4),
    };
  });
  const section = {
    rules:
      'docs.temporal.io/cloud/actions (read 2026-12-07); bench/billable-actions.ts says what is counted and what history cannot show (queries, heartbeats)',
    list_price_usd_per_million_actions: LIST_PRICE_USD_PER_MILLION_ACTIONS,
    conversation_actions_per_turn_besides_the_run: conversationShare,
    marginal_actions_per_step: { agent_run: perStep('agentRun'), tutorial_loop: perStep('tutorial loop') },
    turns,
    recorded,
    live,
  };
  const rows = (list: Row[]) =>
    list.map((row) => [row.what, row.turns, row.steps, row.actions, row.actions_per_turn, row.actions_per_step, row.usd_per_1000_turns]);
  const header = ['what', 'turns', 'steps', 'actions', 'per turn', 'per step', 'USD / 1,000 turns'];
  const text = [
    table('Recorded histories (test/replay/histories)', header, rows(recorded)),
    '',
    table('Live on a dev server: agentRun beside the tutorial loop (bench/naive)', header, rows(live)),
    '',
    table(
      `A whole turn (the conversation's ${conversationShare} actions besides the run, plus the run), at $${LIST_PRICE_USD_PER_MILLION_ACTIONS} per million actions`,
      ['steps', 'ours: actions', 'ours: USD / 1,000 turns', 'tutorial loop: actions', 'tutorial loop: USD / 1,000 turns'],
      turns.map((turn) => [
        turn.steps,
        turn.ours_turn_actions,
        turn.ours_usd_per_1000_turns,
        turn.tutorial_loop_actions,
        turn.tutorial_loop_usd_per_1000_turns,
      ]),
    ),
    `Each further step: agentRun ${section.marginal_actions_per_step.agent_run} actions, the tutorial loop ${section.marginal_actions_per_step.tutorial_loop}.`,
  ].join('\n');
  return { section, text };
}

function rowOf(what: string, turns: number, histories: Event[][]): Row {
  const count = sumActions(histories.map(billableActions));
  const steps = histories.flat().filter(isModelCall).length;
  return {
    what,
    turns,
    steps,
    actions: count.total,
    actions_per_turn: round(count.total / turns, 2),
    actions_per_step: round(count.total / Math.max(1, steps), 2),
    usd_per_1000_turns: round(priceUsd((count.total / turns) * 1000), 4),
    by_kind: count.byKind,
  };
}

/** A model call: a `callModel`/`naiveCallModel` activity scheduled, or its local activity marker. */
function isModelCall(event: Event): boolean {
  const type = event.activityTaskScheduledEventAttributes?.activityType?.name ?? localActivityOf(event)?.activityType;
  return type === 'callModel' || type === 'naiveCallModel';
}

async function runHistory(client: Client, workflowType: string, input: unknown, taskQueue: string): Promise<Event[]> {
  const handle = await client.workflow.start(workflowType, {
    taskQueue,
    workflowId: `actions-${workflowType}-${crypto.randomUUID()}`,
    args: [input],
  });
  await handle.result();
  return (await handle.fetchHistory()).events ?? [];
}
