import { check, formatBytes, percentile, round, table } from '../report.ts';
import type { BuiltBundle } from './bundles.ts';
import type { LoadSample } from './processes.ts';

/** Issue 5's targets for our ingress. */
export const TARGETS = {
  /** Minified bundle as uploaded (AWS SDK external). */
  maxBundleBytes: 150 * 1024,
  /** Median cold `import()` of that bundle. */
  maxLoadMs: 50,
  /** How many times smaller and faster to load than the edge that starts workflows itself. */
  minTimesBetterThanDirect: 5,
} as const;

export interface Measured {
  entry: string;
  /** Where a 200 means the event is held. */
  holds: string;
  bundle: BuiltBundle;
  load: LoadSample[];
  loadWithAwsSdk: LoadSample[];
  sequential: number[];
  concurrent: { samples: number[]; seconds: number };
  cold: { readyMs: number[]; firstAckMs: number[] };
  /** Events acknowledged, and events the queue (or Temporal) holds afterwards. */
  held: { sent: number; held: number };
}

export interface IngressMeasurements {
  settings: {
    load_runs: number;
    requests: number;
    warmup: number;
    concurrency: number;
    concurrent_requests: number;
    cold_starts: number;
    drain_every: number;
    concurrent_block: number;
  };
  measured: Record<'ours' | 'bolt' | 'direct', Measured>;
  /** Node starting and importing an empty module. */
  nodeFloor: LoadSample[];
  /** `import('@aws-sdk/client-sqs')` from node_modules: what ours and bolt load besides their bundle. */
  awsSdkAlone: LoadSample[];
  /** Ours and direct with zod imported as a namespace in the repository's files (not the product). */
  whatIf?: { files: string[]; ours: { bundle: BuiltBundle; load: LoadSample[] }; direct: { bundle: BuiltBundle; load: LoadSample[] } };
  loadAverage: { before: number[]; after: number[] };
}

const spread = (values: number[]) => ({
  p50_ms: round(percentile(values, 50), 2),
  p90_ms: round(percentile(values, 90), 2),
  min_ms: round(Math.min(...values), 2),
  max_ms: round(Math.max(...values), 2),
  samples: values.length,
});

const latency = (values: number[]) => ({
  p50_ms: round(percentile(values, 50), 2),
  p99_ms: round(percentile(values, 99), 2),
  mean_ms: round(values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length), 2),
  max_ms: round(Math.max(...values), 2),
  samples: values.length,
});

const imports = (samples: LoadSample[]) => samples.map((sample) => sample.importMs);
const kib = (bytes: number) => round(bytes / 1024, 1);

type LoadFigures = ReturnType<typeof loadFigures>;
function loadFigures(samples: LoadSample[]) {
  return { import_ms: spread(imports(samples)), since_process_start_ms: spread(samples.map((sample) => sample.sinceStartMs)) };
}

function sizeRow(name: string, bundle: BuiltBundle | undefined, load: LoadFigures, loadWithSdk?: LoadFigures): (string | number)[] {
  return [
    name,
    bundle ? kib(bundle.bytes) : '',
    bundle ? kib(bundle.bytesWithAwsSdk) : '',
    load.import_ms.p50_ms,
    `${load.import_ms.min_ms}–${load.import_ms.max_ms}`,
    load.since_process_start_ms.p50_ms,
    loadWithSdk?.import_ms.p50_ms ?? '',
    bundle
      ? bundle.packages
          .slice(0, 3)
          .map((entry) => `${entry.name} ${kib(entry.bytes)}`)
          .join(', ')
      : '',
  ];
}

export function summariseIngress(measurements: IngressMeasurements) {
  const { settings, measured, nodeFloor, awsSdkAlone, whatIf } = measurements;
  const implementations: Record<string, unknown> = {};
  const sizeRows: (string | number)[][] = [];
  const latencyRows: (string | number)[][] = [];
  for (const [name, m] of Object.entries(measured)) {
    const load = loadFigures(m.load);
    const loadWithSdk = loadFigures(m.loadWithAwsSdk);
    const sequential = latency(m.sequential);
    const concurrent = {
      ...latency(m.concurrent.samples),
      requests_per_second: round(m.concurrent.samples.length / m.concurrent.seconds, 0),
    };
    const cold = { process_ready_ms: spread(m.cold.readyMs), first_ack_ms: spread(m.cold.firstAckMs) };
    implementations[name] = {
      entry: m.entry,
      a_200_means: `the event is held by ${m.holds}`,
      bundle_bytes: m.bundle.bytes,
      bundle_bytes_with_aws_sdk: m.bundle.bytesWithAwsSdk,
      aws_sdk_imports: m.bundle.awsSdkImports,
      largest_packages: m.bundle.packages.slice(0, 8),
      load,
      load_with_aws_sdk_bundled: loadWithSdk,
      ack: { sequential, [`concurrency_${settings.concurrency}`]: concurrent, cold_process: cold },
      events: m.held,
    };
    sizeRows.push(sizeRow(name, m.bundle, load, loadWithSdk));
    latencyRows.push([
      name,
      m.holds,
      sequential.p50_ms,
      sequential.p99_ms,
      concurrent.p50_ms,
      concurrent.p99_ms,
      concurrent.requests_per_second,
      cold.process_ready_ms.p50_ms,
      cold.first_ack_ms.p50_ms,
      `${m.held.held}/${m.held.sent}`,
    ]);
  }
  const floor = loadFigures(nodeFloor);
  const sdkAlone = loadFigures(awsSdkAlone);
  sizeRows.push(sizeRow('(@aws-sdk/client-sqs alone)', undefined, sdkAlone), sizeRow('(node, empty module)', undefined, floor));
  const whatIfSection = whatIf && {
    note: "not the product: the same entries with `import { z } from 'zod'` rewritten to `import * as z from 'zod'` in the files listed, which lets esbuild drop the parts of zod nothing uses (its locales above all)",
    files: whatIf.files,
    ours: { bundle_bytes: whatIf.ours.bundle.bytes, load: loadFigures(whatIf.ours.load) },
    direct: { bundle_bytes: whatIf.direct.bundle.bytes, load: loadFigures(whatIf.direct.load) },
  };
  if (whatIfSection) {
    sizeRows.push(
      sizeRow('ours, zod as namespace*', whatIf.ours.bundle, whatIfSection.ours.load),
      sizeRow('direct, zod as namespace*', whatIf.direct.bundle, whatIfSection.direct.load),
    );
  }

  const targets = checkTargets(measurements);
  const notes = targets.every((target) => target.pass) ? [] : whatWouldHelp(measurements);
  const section = {
    ...settings,
    how: {
      bundle:
        'esbuild as infra/constructs/node-lambda.ts builds a Lambda: minified ESM, node24, mainFields module,main, createRequire banner, @aws-sdk/* external (the Lambda runtime provides it); also built with the SDK inside',
      load: `median of ${settings.load_runs} fresh node processes per bundle, after one uncounted round; import_ms times await import(bundle) in the child, since_process_start_ms runs from the process's time origin to the end of that import; @aws-sdk/* resolves from node_modules`,
      ack: `client-side time from sending a signed app_mention to the end of the 200 response, over local HTTP to a node:http server that turns each request into a Lambda Function URL event for the bundle's handler, one process per ingress; ${settings.warmup} warm-up requests, then ${settings.requests} sequential requests with the three taking turns, then ${settings.concurrent_requests} with ${settings.concurrency} in flight into the one process (Lambda would spread them over containers), in blocks of ${settings.concurrent_block}, the three taking turns. Every ${settings.drain_every} sequential requests and after every block, untimed, the SQS queues are drained (received and deleted) as the dispatcher keeps them short: moto's SendMessage slows with every message a queue holds, which real SQS does not. Figures are local emulators' (moto, the Temporal dev server), not AWS's`,
      cold_process: `${settings.cold_starts} fresh serving processes per ingress: spawn to ready (node start, the serving script, the bundle's import), then the first request, which pays for the first SQS send or the Temporal connection`,
    },
    implementations,
    ...(whatIfSection ? { what_if_zod_namespace_import: whatIfSection } : {}),
    aws_sdk_client_sqs_alone: sdkAlone,
    node_empty_module: floor,
    targets: targets.map(({ label, pass, detail }) => ({ label, pass, detail })),
    ...(notes.length ? { notes } : {}),
    load_average: {
      before: measurements.loadAverage.before.map((value) => round(value, 2)),
      after: measurements.loadAverage.after.map((value) => round(value, 2)),
    },
  };
  const text = [
    table(
      `Bundle and cold load: minified ESM, AWS SDK external as uploaded; median of ${settings.load_runs} fresh processes`,
      [
        'ingress',
        'bundle KiB',
        '+AWS SDK KiB',
        'import ms',
        'import min–max',
        'start→loaded ms',
        'import ms, SDK in',
        'largest packages (KiB)',
      ],
      sizeRows,
    ),
    ...(whatIf ? [`* not the product: \`import * as z from 'zod'\` instead of \`import { z }\` in ${whatIf.files.join(', ')}`] : []),
    '',
    table(
      `Time to 200 over local HTTP (Function URL stand-in), ms: ${settings.requests} sequential after ${settings.warmup} warm-up; ${settings.concurrent_requests} at concurrency ${settings.concurrency}; ${settings.cold_starts} cold processes`,
      [
        'ingress',
        '200 means held by',
        'p50',
        'p99',
        `c${settings.concurrency} p50`,
        `c${settings.concurrency} p99`,
        `c${settings.concurrency} req/s`,
        'cold ready',
        'cold 1st ack',
        'held/sent',
      ],
      latencyRows,
    ),
    '',
    ...targets.map(({ line }) => line),
    ...notes.map((note) => `note: ${note}`),
  ].join('\n');
  return { section, text };
}

function checkTargets({ measured }: IngressMeasurements) {
  const ours = measured.ours;
  const direct = measured.direct;
  const oursLoad = percentile(imports(ours.load), 50);
  const directLoad = percentile(imports(direct.load), 50);
  const sizeRatio = direct.bundle.bytes / ours.bundle.bytes;
  const loadRatio = directLoad / oursLoad;
  const times = TARGETS.minTimesBetterThanDirect;
  const results = [
    {
      label: `ours bundle ≤ ${formatBytes(TARGETS.maxBundleBytes)}`,
      pass: ours.bundle.bytes <= TARGETS.maxBundleBytes,
      detail: `${formatBytes(ours.bundle.bytes)} (${ours.bundle.bytes} bytes; ${formatBytes(ours.bundle.bytesWithAwsSdk)} with the AWS SDK in)`,
    },
    {
      label: `ours load ≤ ${TARGETS.maxLoadMs} ms`,
      pass: oursLoad <= TARGETS.maxLoadMs,
      detail: `median import ${round(oursLoad, 1)} ms`,
    },
    {
      label: `ours bundle ≥ ${times}× smaller than direct`,
      pass: sizeRatio >= times,
      detail: `${round(sizeRatio, 2)}× (${formatBytes(ours.bundle.bytes)} vs ${formatBytes(direct.bundle.bytes)})`,
    },
    {
      label: `ours load ≥ ${times}× faster than direct`,
      pass: loadRatio >= times,
      detail: `${round(loadRatio, 2)}× (${round(oursLoad, 1)} ms vs ${round(directLoad, 1)} ms)`,
    },
  ];
  for (const [name, m] of Object.entries(measured)) {
    results.push({
      label: `${name}: every acknowledged event is held`,
      pass: m.held.held === m.held.sent,
      detail: `${m.held.held} of ${m.held.sent} in ${m.holds}`,
    });
  }
  return results.map((result) => ({ ...result, line: check(result.label, result.pass, result.detail) }));
}

/** Where ours' bytes and milliseconds go, from the figures measured: what a fix would have to remove. */
function whatWouldHelp({ measured, awsSdkAlone, whatIf }: IngressMeasurements): string[] {
  const ours = measured.ours;
  const oursLoad = percentile(imports(ours.load), 50);
  const sdkLoad = percentile(imports(awsSdkAlone), 50);
  const largest = ours.bundle.packages[0];
  const notes = [
    `ours' largest package is ${largest?.name} at ${formatBytes(largest?.bytes ?? 0)} of ${formatBytes(ours.bundle.bytes)}`,
    `importing ${ours.bundle.awsSdkImports.join(', ') || 'no AWS SDK client'} alone from node_modules takes ${round(sdkLoad, 1)} ms (median) of ours' ${round(oursLoad, 1)} ms; the Lambda runtime's copy has to be loaded just the same`,
  ];
  if (whatIf) {
    const oursWhatIf = percentile(imports(whatIf.ours.load), 50);
    const directWhatIf = percentile(imports(whatIf.direct.load), 50);
    notes.push(
      `with zod imported as a namespace (*): ours ${formatBytes(whatIf.ours.bundle.bytes)} and ${round(oursWhatIf, 1)} ms, ` +
        `${round(whatIf.direct.bundle.bytes / whatIf.ours.bundle.bytes, 2)}× smaller and ${round(directWhatIf / oursWhatIf, 2)}× faster to load than direct built the same way`,
    );
  }
  return notes;
}
