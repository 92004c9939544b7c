import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { runHistory } from './history.ts';
import { runOverhead } from './overhead.ts';
import { runCapacity } from './capacity.ts';
import { runIngress } from './ingress.ts';
import { runSchedulesBench } from './schedules.ts';
import { runWorkerStartBench } from './worker-start.ts';
import { runActionsBench } from './actions.ts';
import { runSlackLatencyBench } from './slack-latency.ts';
import { runIdleConversationsBench } from './idle-conversations.ts';
import { RESULTS_PATH, saveSection, type Section } from './report.ts';

// saveSection merges any section name; a part may save under another (see below).
type Part =
  'history' | 'overhead' | 'capacity' | 'ingress' | 'schedules' | 'worker-start' | 'actions' | 'slack-latency' | 'idle-conversations';
const PARTS: Part[] = [
  'history',
  'overhead',
  'capacity',
  'ingress',
  'schedules',
  'worker-start',
  'actions',
  'slack-latency',
  'idle-conversations',
];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    tuning: { type: 'string' },
    'model-tuning': { type: 'string' },
    steps: { type: 'string' },
    seconds: { type: 'string' },
    conversations: { type: 'string' },
    concurrency: { type: 'string' },
    'cached-workflows': { type: 'string' },
    rates: { type: 'string' },
    variants: { type: 'string' },
    'model-on-main-queue': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const unknown = positionals.filter((part) => !PARTS.includes(part as Part));
if (unknown.length) {
  console.error(`Unknown part ${unknown.join(', ')}: use ${PARTS.join(', ')} (or none for all).`);
  process.exit(2);
}
const parts = positionals.length ? (positionals as Part[]) : PARTS;
const log = values.quiet ? undefined : (line: string) => console.error(`[bench] ${line}`);

console.log(
  `durable-agents benchmarks: ${parts.join(', ')} on ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}, load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
for (const part of parts) {
  log?.(`${part}: starting`);
  try {
    const { section, text } = await runPart(part);
    // A capacity run with model calls on the main queue is kept beside the default one.
    // So is an overhead run that measures the read-only tools variant.
    const readOnly = part === 'overhead' && (values.variants?.split(',') ?? []).includes('read_only_tools');
    const key =
      part === 'capacity' && values['model-on-main-queue']
        ? 'capacity_model_on_main_queue'
        : readOnly
          ? 'overhead_read_only_tools'
          : part.replaceAll('-', '_');
    const goal = readOnly ? { goal: { read_only_tools_agent_run_over_naive_tutorial_temporal_adds_p50_10_steps: '<= 0.2' } } : {};
    saveSection(key as Section, { ...(section as object), ...goal });
    console.log(`\n== ${part} ==\n${text}\n`);
  } catch (error) {
    console.error(`\n== ${part} ==\nFAILED: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
console.log(`Results: ${RESULTS_PATH}`);

async function runPart(part: Part): Promise<{ section: unknown; text: string }> {
  switch (part) {
    case 'history':
      return runHistory({ ...(values.steps ? { counts: values.steps.split(',').map(Number) } : {}), ...(log ? { log } : {}) });
    case 'overhead':
      return runOverhead({
        ...(values.runs ? { runs: Number(values.runs) } : {}),
        ...(values.steps ? { steps: values.steps.split(',').map(Number) } : {}),
        ...(values.variants ? { variants: values.variants.split(',') } : {}),
        ...(log ? { log } : {}),
      });
    case 'capacity':
      return runCapacity({
        ...(values.runs ? { runs: Number(values.runs) } : {}),
        modelOnMainQueue: values['model-on-main-queue'],
        ...(values.tuning ? { tuning: JSON.parse(values.tuning) as Record<string, unknown> } : {}),
        ...(values['model-tuning'] ? { modelTuning: JSON.parse(values['model-tuning']) as Record<string, unknown> } : {}),
        ...(log ? { log } : {}),
      });
    case 'ingress':
      return runIngress({ ...(log ? { log } : {}) });
    case 'schedules':
      return runSchedulesBench({ ...(log ? { log } : {}) });
    case 'idle-conversations':
      return runIdleConversationsBench({
        ...(values.conversations ? { conversations: Number(values.conversations) } : {}),
        ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
        ...(values['cached-workflows'] ? { cachedWorkflows: Number(values['cached-workflows']) } : {}),
        ...(log ? { log } : {}),
      });
    case 'slack-latency':
      return runSlackLatencyBench({
        ...(values.seconds ? { seconds: Number(values.seconds) } : {}),
        ...(values.rates ? { rates: values.rates.split(',').map(Number) } : {}),
        ...(log ? { log } : {}),
      });
    case 'actions':
      return runActionsBench({ ...(values.steps ? { steps: values.steps.split(',').map(Number) } : {}), ...(log ? { log } : {}) });
    case 'worker-start':
      return runWorkerStartBench({ ...(values.runs ? { runs: Number(values.runs) } : {}), ...(log ? { log } : {}) });
  }
}
