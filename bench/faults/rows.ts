import { countRow, type FaultRow, type FaultWindow, type ToolCallRecord } from './count.ts';
import { toolActivityRecord } from './history.ts';
import { ipOf, markerOf, answeredMarker } from './script.ts';
import type { FaultStack } from './stack.ts';
import { sleep, type PlannedMessage, type Traffic } from './traffic.ts';

export interface RowContext {
  stack: FaultStack;
  traffic: Traffic;
  log: (line: string) => void;
}

/** One fault: the traffic it runs under, and how it is injected while that traffic flows. */
export interface FaultDefinition {
  id: string;
  /** The row's label in the table. */
  label: string;
  messages: number;
  intervalMs: number;
  emailEvery?: number;
  expenseAt?: number[];
  /** Injects the fault while `plan` is being sent; resolves with when it began and ended. */
  inject(context: RowContext, plan: PlannedMessage[]): Promise<FaultWindow>;
}

/** After the fault's end and the last send, how long answers may take before a message counts as lost. */
const ANSWER_DEADLINE_MS = 120_000;
/** Time left after the last answer for a duplicate to show itself. */
const SETTLE_MS = 5000;

/** A promise and the function that settles it: how a stand-in's hook tells the row the moment came. */
function moment<Value = void>(): { promise: Promise<Value>; fire: (value: Value) => void; fired: () => boolean } {
  let fire!: (value: Value) => void;
  let fired = false;
  const promise = new Promise<Value>((resolve) => (fire = (value) => ((fired = true), resolve(value))));
  return { promise, fire: (value) => !fired && fire(value), fired: () => fired };
}

/** Kills the worker at `trigger`, starts a new one, and returns the window from the kill to its first poll. */
async function killWorkerAt(context: RowContext, trigger: Promise<void>): Promise<FaultWindow> {
  await trigger;
  const start = Date.now();
  await context.stack.worker.kill();
  await context.stack.worker.start();
  return { start, end: Date.now() };
}

type Change = (context: RowContext) => Promise<void> | void;

/** After `after` ms, each phase's change held for its time, then `restore`; the fault lasts from the first change to the restore. */
const phased =
  (after: number, phases: [during: number, change: Change][], restore: Change) =>
  async (context: RowContext): Promise<FaultWindow> => {
    await sleep(after);
    const start = Date.now();
    for (const [during, change] of phases) {
      await change(context);
      await sleep(during);
    }
    await restore(context);
    return { start, end: Date.now() };
  };

const timed = (after: number, during: number, inject: Change, restore: Change) => phased(after, [[during, inject]], restore);

export const FAULTS: FaultDefinition[] = [
  {
    id: 'worker-model',
    label: 'worker SIGKILL during a model call',
    messages: 8,
    intervalMs: 2500,
    async inject(context, plan) {
      const target = plan[2]!.marker;
      const at = moment();
      context.stack.controls.onModelRequest = (request) => {
        if (markerOf(request) !== target || at.fired()) return;
        at.fire();
        return { delayMs: 5000 };
      };
      return killWorkerAt(context, at.promise);
    },
  },
  {
    id: 'worker-tool',
    label: 'worker SIGKILL during a tool call',
    messages: 8,
    intervalMs: 2500,
    async inject(context, plan) {
      const target = ipOf(plan[2]!.marker);
      const at = moment();
      context.stack.controls.onToolRequest = (ip) => {
        if (ip !== target || at.fired()) return;
        at.fire();
        return { delayMs: 5000 };
      };
      return killWorkerAt(context, at.promise);
    },
  },
  {
    id: 'worker-approval',
    label: 'worker SIGKILL during an approval wait',
    messages: 8,
    intervalMs: 2500,
    expenseAt: [1],
    async inject(context, plan) {
      const thread = () => plan[1]!.rootTs;
      const at = moment();
      // The click comes while no worker runs: the dispatcher's update waits, fails, and SQS brings it back.
      context.traffic.approveDelayMs = 4000;
      context.stack.controls.onSlackChange = (message) => {
        if (message.botId && message.threadTs === thread() && JSON.stringify(message.blocks ?? []).includes('approval:approve'))
          setTimeout(() => at.fire(), 2000);
      };
      return killWorkerAt(context, at.promise);
    },
  },
  {
    id: 'worker-slack-post',
    label: 'worker SIGKILL during a Slack post',
    messages: 8,
    intervalMs: 2500,
    async inject(context, plan) {
      const target = plan[2]!.marker;
      const at = moment();
      context.stack.controls.onSlackChange = (message) => {
        if (!message.botId || answeredMarker(message.text) !== target || at.fired()) return;
        // The answer is stored; its HTTP answer is held until the worker that asked is gone.
        context.stack.slack.delayAnswers('chat.postMessage', 5000, 1);
        at.fire();
      };
      return killWorkerAt(context, at.promise);
    },
  },
  {
    id: 'temporal-restart',
    label: 'Temporal server SIGKILL, restarted 10 s later',
    messages: 8,
    intervalMs: 2500,
    inject: timed(
      6000,
      10_000,
      (context) => context.stack.temporal.kill(),
      (context) => context.stack.temporal.start(),
    ),
  },
  {
    id: 'model-outage',
    label: 'model 503 for 60 s, then 429 (Retry-After 5 s) for 15 s',
    messages: 10,
    intervalMs: 7000,
    inject: phased(
      5000,
      [
        [60_000, (context) => void (context.stack.controls.modelFault = { status: 503 })],
        [15_000, (context) => void (context.stack.controls.modelFault = { status: 429, retryAfterSeconds: 5 })],
      ],
      (context) => void delete context.stack.controls.modelFault,
    ),
  },
  {
    id: 's3-outage',
    label: 'transcript store (S3) unreachable for 30 s',
    messages: 10,
    intervalMs: 3000,
    inject: timed(
      5000,
      30_000,
      (context) => context.stack.s3Proxy.cut(),
      (context) => context.stack.s3Proxy.restore(),
    ),
  },
  {
    id: 'sqs-edge-outage',
    label: "SQS at the edge unreachable for 15 s, then answering after the edge's 2.5 s deadline for 15 s (Slack's retries)",
    messages: 12,
    intervalMs: 2500,
    inject: phased(
      4000,
      [
        [15_000, (context) => context.stack.sqsProxy.cut()],
        // SQS keeps each message but its answer comes too late: the edge says 503, Slack sends it again.
        [15_000, (context) => (context.stack.sqsProxy.restore(), context.stack.sqsProxy.slow(3500))],
      ],
      (context) => context.stack.sqsProxy.restore(),
    ),
  },
  {
    id: 'dispatcher-kill',
    label: 'dispatcher SIGKILL mid-batch',
    messages: 8,
    intervalMs: 150,
    emailEvery: 0,
    async inject(context, plan) {
      // A burst: the dispatcher holds several records when the first of them reaches the model.
      const markers = new Set(plan.map((message) => message.marker));
      const at = moment();
      context.stack.controls.onModelRequest = (request) => {
        if (markers.has(markerOf(request) ?? '')) at.fire();
      };
      await at.promise;
      const start = Date.now();
      await context.stack.dispatcher.kill();
      await context.stack.dispatcher.start();
      return { start, end: Date.now() };
    },
  },
  {
    id: 'slack-errors',
    label: 'Slack API 503 for 90 s, then 429 (Retry-After 5 s) for 15 s',
    messages: 12,
    intervalMs: 6000,
    inject: phased(
      4000,
      [
        [90_000, (context) => void (context.stack.controls.slackFault = () => ({ status: 503 }))],
        [15_000, (context) => void (context.stack.controls.slackFault = () => ({ status: 429, headers: { 'retry-after': '5' } }))],
      ],
      (context) => void delete context.stack.controls.slackFault,
    ),
  },
];

/** Runs one fault under traffic, waits for the answers, and counts. */
export async function runFault(
  context: RowContext,
  fault: FaultDefinition,
): Promise<{ row: FaultRow; plan: PlannedMessage[]; window: FaultWindow; deadLetters: number; edgeRetries: number }> {
  const { stack, traffic, log } = context;
  const plan = traffic.plan(fault.messages, {
    ...(fault.emailEvery !== undefined ? { emailEvery: fault.emailEvery } : {}),
    ...(fault.expenseAt ? { expenseAt: fault.expenseAt } : {}),
  });
  log(`${fault.id}: ${plan.length} messages (${plan[0]!.marker}…${plan.at(-1)!.marker})`);
  const sending = traffic.send(plan, fault.intervalMs);
  let window: FaultWindow;
  try {
    window = await fault.inject(context, plan);
  } finally {
    for (const key of ['modelFault', 'onModelRequest', 'onToolRequest', 'onSlackChange', 'slackFault'] as const) delete stack.controls[key];
    stack.sqsProxy.restore();
    stack.s3Proxy.restore();
    traffic.approveDelayMs = 1000;
  }
  log(
    `${fault.id}: fault from +${((window.start - plan[0]!.sentAt) / 1000).toFixed(1)} s for ${((window.end - window.start) / 1000).toFixed(1)} s`,
  );
  await sending;
  const deadline = Math.max(window.end, Date.now()) + ANSWER_DEADLINE_MS;
  const unanswered = () => plan.filter((message) => message.acceptedAt !== undefined && !traffic.answers().get(message.marker)?.length);
  while (Date.now() < deadline) {
    await traffic.pollEmail();
    if (unanswered().length === 0) break;
    await sleep(500);
  }
  await sleep(SETTLE_MS);
  await traffic.pollEmail();

  const tools: ToolCallRecord[] = [];
  for (const message of plan.filter((entry) => entry.acceptedAt !== undefined)) {
    const executions = traffic.toolExecutions(message.marker, message.kind);
    // The IP lookup is read-only; the expense claim is not.
    const record: ToolCallRecord = { marker: message.marker, executions, ...(message.kind === 'expense' ? {} : { readOnly: true }) };
    if (executions > 1 && message.conversationId && message.kind === 'expense') {
      const activity = message.kind === 'expense' ? 'tool:submit_expense' : 'tool:get_ip_location';
      const recorded = await toolActivityRecord(stack.temporal.client(), `${message.conversationId}/turn-1`, activity).catch(
        () => undefined,
      );
      if (recorded) Object.assign(record, recorded);
    }
    tools.push(record);
  }
  const row = countRow({ fault: fault.label, messages: plan, answers: traffic.answers(), tools, window });
  const edgeRetries = plan.reduce((sum, message) => sum + Math.max(0, message.edgeAttempts - 1), 0);
  return { row, plan, window, deadLetters: await stack.deadLetters(), edgeRetries };
}
