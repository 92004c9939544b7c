import { loadavg } from 'node:os';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { findTemporalCli, startDevServer, type DevServer } from '../local/temporal-dev-server.ts';
import { createFifoQueue, queueDepth, sqsClient } from '../testkit/ingress.ts';
import { createMotoSecret, MOTO_CLIENT_CONFIG, startMoto, type MotoServer } from '../testkit/moto.ts';
import { installQuietRuntime } from './harness.ts';
import { buildIngressBundle, zodNamespaceImports, type BuiltBundle } from './ingress/bundles.ts';
import { concurrentRounds, sequentialRounds, timeAcknowledgement, type Target } from './ingress/latency.ts';
import { childEnvironment, coldLoad, serveBundle, type LoadSample, type LoadTarget, type ServedBundle } from './ingress/processes.ts';
import { BOT_USER, SIGNING_SECRET } from './ingress/slack-requests.ts';
import { summariseIngress, type IngressMeasurements, type Measured } from './ingress/summary.ts';

export interface IngressOptions {
  /** Fresh processes per bundle for the load time. @default 15 */
  loadRuns?: number;
  /** Sequential requests per ingress, after the warm-up. @default 300 */
  requests?: number;
  /** Unmeasured requests per ingress first. @default 30 */
  warmup?: number;
  /** Requests in flight in the concurrent round. @default 8 */
  concurrency?: number;
  /** Requests per ingress in the concurrent round. @default 400 */
  concurrentRequests?: number;
  /** Fresh processes per ingress whose first request is timed. @default 5 */
  coldStarts?: number;
  log?: (line: string) => void;
}

const IMPLEMENTATIONS = [
  { name: 'ours', entry: 'functions/slack/handler.ts', holds: 'SQS (moto)' },
  { name: 'bolt', entry: 'bench/ingress/bolt-handler.ts', holds: 'SQS (moto)' },
  { name: 'direct', entry: 'bench/ingress/direct-handler.ts', holds: 'Temporal (dev server)' },
] as const;
type Name = (typeof IMPLEMENTATIONS)[number]['name'];

const WORKFLOW_TYPE = 'benchConversation';
/** Sequential requests per queue between drains; concurrent ones come in blocks of CONCURRENT_BLOCK, each followed by one. */
const DRAIN_EVERY = 10;
const CONCURRENT_BLOCK = 40;
// Request ids differ by run, so no phase repeats another's events.
const RUN = { warmup: 1, sequential: 2, concurrent: 3, cold: 4 } as const;

/**
 * Issue 5's benchmark: three Slack edges accepting the same signed `app_mention`: ours (Hono,
 * to SQS), the same job on Bolt's Lambda receiver, and an edge that starts the workflow with
 * the Temporal client itself. For each: minified bundle size, cold module load in fresh
 * processes, and time to a 200 over local HTTP behind a Function URL stand-in.
 */
export async function runIngress(options: IngressOptions = {}) {
  const settings = {
    load_runs: options.loadRuns ?? 15,
    requests: options.requests ?? 300,
    warmup: options.warmup ?? 30,
    concurrency: options.concurrency ?? 8,
    concurrent_requests: options.concurrentRequests ?? 400,
    cold_starts: options.coldStarts ?? 5,
    drain_every: DRAIN_EVERY,
    concurrent_block: CONCURRENT_BLOCK,
  };
  const log = options.log ?? (() => undefined);
  const loadBefore = loadavg();

  log('ingress: building the bundles');
  const bundles = {} as Record<Name, BuiltBundle>;
  for (const implementation of IMPLEMENTATIONS) bundles[implementation.name] = await buildIngressBundle(implementation);
  // Not the product: how ours and direct would fare with zod imported as a namespace.
  const rewrite = zodNamespaceImports();
  const whatIf = {
    ours: await buildIngressBundle({ name: 'ours-zod-namespace', entry: IMPLEMENTATIONS[0].entry }, [rewrite.plugin]),
    direct: await buildIngressBundle({ name: 'direct-zod-namespace', entry: IMPLEMENTATIONS[2].entry }, [rewrite.plugin]),
  };
  const subjects: LoadSubject[] = [
    { name: 'node', target: undefined },
    { name: 'aws-sdk-sqs', target: { package: '@aws-sdk/client-sqs' } },
    ...IMPLEMENTATIONS.flatMap(({ name }) => [
      { name, target: { file: bundles[name].path } },
      // Without an SDK import, the bundle with the SDK in is the same file: measured once.
      ...(bundles[name].awsSdkImports.length ? [{ name: `${name}-with-aws-sdk`, target: { file: bundles[name].pathWithAwsSdk } }] : []),
    ]),
    ...(rewrite.rewrites.size
      ? Object.entries(whatIf).map(([name, bundle]) => ({ name: `${name}-zod-namespace`, target: { file: bundle.path } }))
      : []),
  ];

  installQuietRuntime();
  let loadOf: (name: string) => ReturnType<typeof measureLoads> extends Promise<Map<string, infer Load>> ? Load : never = () => {
    throw new Error('cold loads not measured yet');
  };
  let moto: MotoServer | undefined;
  let temporal: DevServer | undefined;
  let sqs: SQSClient | undefined;
  const served: ServedBundle[] = [];
  try {
    // Our edge reads its two secrets from Secrets Manager at cold start (its configuration names
    // them by ARN), so its cold load includes that read, here from moto on this machine.
    log('ingress: starting moto and the Temporal dev server');
    [moto, temporal] = await Promise.all([startMoto(), startDevServer({ executable: findTemporalCli(process.env) })]);
    const secrets: BenchSecrets = {
      endpoint: moto.endpoint,
      signingSecretArn: await createMotoSecret(moto.endpoint, SIGNING_SECRET),
      approvalSecretArn: await createMotoSecret(moto.endpoint, APPROVAL_SECRET),
    };
    const loadEnvironment = childEnvironment({
      ...handlerSettings('http://127.0.0.1:9', '127.0.0.1:9', secrets),
      INGRESS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/bench.fifo',
    });
    log(`ingress: cold loads, ${settings.load_runs} fresh processes for each of ${subjects.length} modules`);
    const loads = await measureLoads(subjects, settings.load_runs, loadEnvironment);
    loadOf = (name: string) => loads.get(name) ?? loads.get(name.replace(/-with-aws-sdk$/, ''))!;
    sqs = sqsClient(moto.endpoint);
    const queues = { ours: await createFifoQueue(sqs, 'bench-ours'), bolt: await createFifoQueue(sqs, 'bench-bolt') };
    const environments: Record<Name, NodeJS.ProcessEnv> = {
      ours: childEnvironment({ ...handlerSettings(moto.endpoint, temporal.address, secrets), INGRESS_QUEUE_URL: queues.ours }),
      bolt: childEnvironment({ ...handlerSettings(moto.endpoint, temporal.address, secrets), INGRESS_QUEUE_URL: queues.bolt }),
      direct: childEnvironment(handlerSettings(moto.endpoint, temporal.address, secrets)),
    };

    const targets: Target[] = [];
    for (const { name } of IMPLEMENTATIONS) {
      const server = await serveBundle(bundles[name].path, environments[name]);
      served.push(server);
      targets.push({ name, url: server.url });
    }
    // The dispatcher keeps the queue short in production; moto's SendMessage slows with every
    // message a queue holds (real SQS does not), so the bench drains between chunks, untimed.
    const drained = { ours: 0, bolt: 0 };
    const drain = async () => {
      drained.ours += await drainQueue(sqs!, queues.ours);
      drained.bolt += await drainQueue(sqs!, queues.bolt);
    };
    log(`ingress: ${settings.warmup} warm-up requests each, then ${settings.requests} sequential requests each, taking turns`);
    await sequentialRounds(targets, { requests: settings.warmup, run: RUN.warmup, pauseEvery: settings.drain_every, pause: drain });
    await drain();
    const sequential = await sequentialRounds(targets, {
      requests: settings.requests,
      run: RUN.sequential,
      pauseEvery: settings.drain_every,
      pause: drain,
    });
    await drain();
    log(`ingress: ${settings.concurrent_requests} requests each, ${settings.concurrency} in flight`);
    const concurrent = await concurrentRounds(targets, {
      requests: settings.concurrent_requests,
      concurrency: settings.concurrency,
      blocks: Math.ceil(settings.concurrent_requests / settings.concurrent_block),
      run: RUN.concurrent,
      pause: drain,
    });
    await Promise.all(served.splice(0).map((server) => server.stop()));

    log(`ingress: first request of ${settings.cold_starts} fresh processes each`);
    const cold = new Map(IMPLEMENTATIONS.map(({ name }) => [name, { readyMs: [] as number[], firstAckMs: [] as number[] }]));
    for (let start = 0; start < settings.cold_starts; start += 1) {
      for (const { name } of IMPLEMENTATIONS) {
        const server = await serveBundle(bundles[name].path, environments[name]);
        served.push(server);
        cold.get(name)!.readyMs.push(server.readyMs);
        cold.get(name)!.firstAckMs.push(await timeAcknowledgement({ name, url: server.url }, start, RUN.cold));
        await served.pop()!.stop();
      }
      await drain();
    }

    const sent = settings.warmup + settings.requests + settings.concurrent_requests + settings.cold_starts;
    const held: Record<Name, number> = {
      ours: drained.ours + (await queueDepth(sqs, queues.ours)),
      bolt: drained.bolt + (await queueDepth(sqs, queues.bolt)),
      direct: await workflowsStarted(temporal, sent),
    };
    const measured = {} as Record<Name, Measured>;
    for (const { name, entry, holds } of IMPLEMENTATIONS) {
      measured[name] = {
        entry,
        holds,
        bundle: bundles[name],
        load: loadOf(name),
        loadWithAwsSdk: loadOf(`${name}-with-aws-sdk`),
        sequential: sequential.get(name)!,
        concurrent: concurrent.get(name)!,
        cold: cold.get(name)!,
        held: { sent, held: held[name] },
      };
    }
    const measurements: IngressMeasurements = {
      settings,
      measured,
      nodeFloor: loadOf('node'),
      awsSdkAlone: loadOf('aws-sdk-sqs'),
      ...(rewrite.rewrites.size
        ? {
            whatIf: {
              files: [...rewrite.rewrites].sort(),
              ours: { bundle: whatIf.ours, load: loadOf('ours-zod-namespace') },
              direct: { bundle: whatIf.direct, load: loadOf('direct-zod-namespace') },
            },
          }
        : {}),
      loadAverage: { before: loadBefore, after: loadavg() },
    };
    return summariseIngress(measurements);
  } finally {
    await Promise.all(served.map((server) => server.stop()));
    sqs?.destroy();
    await moto?.stop();
    await temporal?.stop();
  }
}

interface BenchSecrets {
  endpoint: string;
  signingSecretArn: string;
  approvalSecretArn: string;
}

const APPROVAL_SECRET = 'bench-approval-secret';

/** What every handler reads at start; each reads only its own part (ours its secrets by ARN, the others as values). */
function handlerSettings(sqsEndpoint: string, temporalAddress: string, secrets: BenchSecrets): Record<string, string> {
  return {
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    APPROVAL_TOKEN_SECRET: APPROVAL_SECRET,
    SLACK_SIGNING_SECRET_ARN: secrets.signingSecretArn,
    APPROVAL_TOKEN_SECRET_ARN: secrets.approvalSecretArn,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    SLACK_BOT_USER_ID: BOT_USER,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: MOTO_CLIENT_CONFIG.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CLIENT_CONFIG.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'ingress-bench',
    DIRECT_WORKFLOW_TYPE: WORKFLOW_TYPE,
  };
}

interface LoadSubject {
  name: string;
  target: LoadTarget;
}

/**
 * Each subject once per round, in an order that rotates from round to round; a first round,
 * not counted, fills the page cache.
 */
async function measureLoads(subjects: LoadSubject[], runs: number, env: NodeJS.ProcessEnv): Promise<Map<string, LoadSample[]>> {
  const samples = new Map(subjects.map(({ name }) => [name, [] as LoadSample[]]));
  for (let round = -1; round < runs; round += 1) {
    const offset = Math.max(0, round) % subjects.length;
    for (const { name, target } of [...subjects.slice(offset), ...subjects.slice(0, offset)]) {
      const sample = await coldLoad(target, env);
      if (round >= 0) samples.get(name)!.push(sample);
    }
  }
  return samples;
}

/** Receives and deletes every message the queue holds, as the dispatcher would; returns how many. */
async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<number> {
  let drained = 0;
  for (;;) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }),
    );
    if (messages.length === 0) return drained;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
    drained += messages.length;
  }
}

/** Workflows of the bench's type, once visibility has caught up with `expected` (or 10 s passed). */
async function workflowsStarted(temporal: DevServer, expected: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { count } = await temporal.env.client.workflow.count(`WorkflowType = '${WORKFLOW_TYPE}'`);
    if (count >= expected || Date.now() > deadline) return count;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
