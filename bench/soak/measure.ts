/**
 * The arithmetic of `npm run soak`, apart from the processes so a unit test covers it: the
 * seeded random source that places traffic and faults, the fault plan, the exactly-once
 * count with end-to-end times, and the growth of a sampled figure after a warm-up.
 */

import { percentile } from '../report.ts';

/** A seeded source of numbers in [0, 1) (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type SoakFaultKind = 'worker-kill' | 'temporal-cut' | 'model-errors';
export const SOAK_FAULT_KINDS: readonly SoakFaultKind[] = ['worker-kill', 'temporal-cut', 'model-errors'];

export interface PlannedFault {
  kind: SoakFaultKind;
  /** Milliseconds after the traffic starts. */
  atMs: number;
  /** How long a cut or an outage lasts (a kill restarts at once). */
  forMs: number;
}

/**
 * The fault kinds `--faults` names, comma-separated, in SOAK_FAULT_KINDS' order whatever the
 * order given (so a seed places the same faults); `none` for none. Throws a one-line reason.
 */
export function parseFaultKinds(text: string): SoakFaultKind[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  const unknown = names.filter((name) => !SOAK_FAULT_KINDS.includes(name as SoakFaultKind));
  if (names.length === 0 || unknown.length > 0)
    throw new Error(
      `--faults ${text}: name fault kinds from ${SOAK_FAULT_KINDS.join(', ')}, comma-separated, or none${unknown.length ? ` (not ${unknown.join(', ')})` : ''}.`,
    );
  return SOAK_FAULT_KINDS.filter((kind) => names.includes(kind));
}

/**
 * Faults at random moments over `durationMs`: gaps of `minGapMs` to `maxGapMs` between them
 * (so one has ended before the next), none in the last `quietTailMs` (the run's answers are
 * then counted on a healthy stack). Bounded: at most durationMs / minGapMs faults. Each is
 * one of `kinds` (by default every kind); without `worker-kill`, one worker lives the whole run.
 */
export function planFaults(
  random: () => number,
  options: { durationMs: number; minGapMs: number; maxGapMs: number; quietTailMs: number; kinds?: readonly SoakFaultKind[] },
): PlannedFault[] {
  const kinds = options.kinds ?? SOAK_FAULT_KINDS;
  const faults: PlannedFault[] = [];
  if (kinds.length === 0) return faults;
  const last = options.durationMs - options.quietTailMs;
  let at = options.minGapMs / 2 + (random() * (options.maxGapMs - options.minGapMs)) / 2;
  while (at < last && faults.length < Math.ceil(options.durationMs / options.minGapMs)) {
    const kind = kinds[Math.floor(random() * kinds.length)]!;
    // A cut or a model outage lasts 5 to 20 s, never past the quiet tail.
    const forMs = kind === 'worker-kill' ? 0 : Math.min(5000 + Math.round(random() * 15_000), Math.max(0, last - at));
    faults.push({ kind, atMs: Math.round(at), forMs });
    at += forMs + options.minGapMs + random() * (options.maxGapMs - options.minGapMs);
  }
  return faults;
}

/** One thing the soak expects exactly one answer to: a message, or an ambient schedule's fire. */
export interface Expected {
  key: string;
  kind: string;
  /** When it was sent (or the schedule fired). */
  sentAt: number;
  /** False: the edge never took it (the sender was told); not counted as lost. */
  accepted: boolean;
}

export interface AnswerCount {
  kind: string;
  expected: number;
  /** Accepted, and answered exactly once. */
  exactlyOnce: number;
  answeredMoreThanOnce: number;
  /** Accepted, and never answered. */
  lost: number;
  notAccepted: number;
  /** From sent to its first answer, over the answered. */
  endToEndMs: { p50: number; p99: number; max: number } | null;
}

/** Per kind and for all kinds together (kind `all`, first): exactly once, more than once, lost, and end-to-end times. */
export function countAnswers(expected: Expected[], answers: Map<string, number[]>): AnswerCount[] {
  const kinds = ['all', ...new Set(expected.map((entry) => entry.kind))];
  return kinds.map((kind) => {
    const chosen = expected.filter((entry) => kind === 'all' || entry.kind === kind);
    const accepted = chosen.filter((entry) => entry.accepted);
    const times = accepted.map((entry) => answers.get(entry.key) ?? []);
    const latencies = accepted.flatMap((entry, index) => (times[index]!.length > 0 ? [Math.min(...times[index]!) - entry.sentAt] : []));
    return {
      kind,
      expected: chosen.length,
      exactlyOnce: times.filter((answered) => answered.length === 1).length,
      answeredMoreThanOnce: times.filter((answered) => answered.length > 1).length,
      lost: times.filter((answered) => answered.length === 0).length,
      notAccepted: chosen.length - accepted.length,
      endToEndMs:
        latencies.length > 0
          ? {
              p50: Math.round(percentile(latencies, 50)),
              p99: Math.round(percentile(latencies, 99)),
              max: Math.round(Math.max(...latencies)),
            }
          : null,
    };
  });
}

export interface Sample {
  /** Milliseconds since the soak began. */
  atMs: number;
  value: number;
}

export interface Growth {
  /** Mean over the first quarter of the samples after the warm-up. */
  baseline: number;
  /** Mean over the last quarter. */
  end: number;
  /** (end − baseline) / baseline, in percent, one decimal. */
  percent: number;
  samples: number;
}

/**
 * How much a sampled figure (RSS, open handles) grew after the warm-up: the mean of the last
 * quarter of the samples against the mean of the first quarter (means, so one GC or one
 * burst of traffic does not decide it). Undefined with fewer than 4 samples after the warm-up.
 */
export function growthAfterWarmup(samples: Sample[], warmupMs: number): Growth | undefined {
  const kept = samples.filter((sample) => sample.atMs >= warmupMs).sort((a, b) => a.atMs - b.atMs);
  if (kept.length < 4) return undefined;
  const quarter = Math.floor(kept.length / 4);
  const mean = (values: Sample[]) => values.reduce((sum, sample) => sum + sample.value, 0) / values.length;
  const baseline = mean(kept.slice(0, quarter));
  const end = mean(kept.slice(-quarter));
  const percent = baseline === 0 ? (end === 0 ? 0 : Number.POSITIVE_INFINITY) : Math.round(((end - baseline) / baseline) * 1000) / 10;
  return { baseline: Math.round(baseline), end: Math.round(end), percent, samples: kept.length };
}

/**
 * A process's samples split by its lives (a killed worker comes back with a new pid), and
 * the growth of the longest life, measured from `warmupMs` after that life began.
 */
export function growthOfLongestLife(
  samples: (Sample & { pid: number })[],
  warmupMs: number,
): (Growth & { pid: number; lifeMs: number }) | undefined {
  const lives = new Map<number, Sample[]>();
  for (const sample of samples) lives.set(sample.pid, [...(lives.get(sample.pid) ?? []), sample]);
  let longest: { pid: number; samples: Sample[]; lifeMs: number } | undefined;
  for (const [pid, life] of lives) {
    const lifeMs = life.at(-1)!.atMs - life[0]!.atMs;
    if (!longest || lifeMs > longest.lifeMs) longest = { pid, samples: life, lifeMs };
  }
  if (!longest) return undefined;
  const begin = longest.samples[0]!.atMs;
  const growth = growthAfterWarmup(
    longest.samples.map((sample) => ({ atMs: sample.atMs - begin, value: sample.value })),
    warmupMs,
  );
  return growth && { ...growth, pid: longest.pid, lifeMs: longest.lifeMs };
}

/**
 * An ambient run's post names the moment the run began (`runAt`, from its prompt). Each post
 * belongs to the run with the latest start at or before that moment: with the overlap policy
 * SKIP a schedule's next run starts only after the previous one ended. Returns answer times
 * per run id.
 */
export function matchAmbientPosts(runs: { id: string; startedAt: number }[], posts: Map<string, number[]>): Map<string, number[]> {
  const ordered = [...runs].sort((a, b) => a.startedAt - b.startedAt);
  const answers = new Map<string, number[]>();
  for (const [runAt, times] of posts) {
    const at = Date.parse(runAt);
    const run = ordered.filter((entry) => entry.startedAt <= at).at(-1);
    if (run) answers.set(run.id, [...(answers.get(run.id) ?? []), ...times]);
  }
  return answers;
}
