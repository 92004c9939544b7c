import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, DefaultLogger, Runtime as TemporalRuntime } from '@temporalio/worker';
import { mcpServersOf } from '../authoring/define-agent.ts';
import { settingsOrExit } from '../config/load-settings.ts';
import { CaseFileError } from '../eval/case.ts';
import { ExportError, exportRecorded } from '../eval/export.ts';
import { listResults, loadCases, readResults, writeCase, writeResults } from '../eval/files.ts';
import { secretValuesOf } from '../eval/redact.ts';
import { compareRuns, progressLine, resultTable } from '../eval/report.ts';
import type { EvalConfiguration, EvalRun } from '../eval/run-cases.ts';
import { runCases } from '../eval/run-cases.ts';
import { openEvalTemporal, evalModel } from '../eval/setup.ts';
import { fileLogger } from '../local/file-logger.ts';
import { localPayloadKeys } from '../local/payload-keys.ts';
import { PayloadKeyError } from '../temporal-client/payload-encryption.ts';
import { startRuntime } from '../local/runtime.ts';
import { loadStackSettings } from '../config/local-settings.ts';
import { StartupError } from '../local/startup-error.ts';
import { TemporalConnectionError } from '../temporal-client/temporal-connection.ts';
import { createTranscriptStore } from '../store/create-store.ts';
import { WORKFLOWS_PATH } from '../worker/create-worker.ts';
import { registryFrom } from '../worker/compose.ts';
import { WORKFLOW_INTERCEPTORS_PATH } from '../telemetry/worker-tracing.ts';

const USAGE = `Usage:
  npm run eval -- export <conversation or run id>… [--force]
  npm run eval -- run <agent>… [--model M] [--prompt-file F] [--cases glob] [--against results.json] [--concurrency N] [--judge-url URL]
      Give --model or --prompt-file twice to run two configurations and compare them.
  npm run eval -- list`;

/** A command line that cannot run as given: the message, the usage, exit code 2. */
class UsageError extends Error {}

const [command, ...rest] = process.argv.slice(2);
const settings = settingsOrExit(() => loadStackSettings(process.env));
TemporalRuntime.install({ logger: fileLogger(join(settings.stack.DATA_DIR, 'logs', 'eval.log')) });

try {
  if (command === 'export') process.exitCode = await exportCommand(rest);
  else if (command === 'run') process.exitCode = await runCommand(rest);
  else if (command === 'list') process.exitCode = listCommand();
  else {
    console.error(USAGE);
    process.exitCode = 2;
  }
} catch (error) {
  if (
    error instanceof CaseFileError ||
    error instanceof ExportError ||
    error instanceof StartupError ||
    error instanceof TemporalConnectionError ||
    error instanceof PayloadKeyError ||
    error instanceof UsageError
  ) {
    console.error(error.message);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  } else {
    throw error;
  }
}
process.exit();

async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(() =>
    parseArgs({ args, allowPositionals: true, options: { force: { type: 'boolean', default: false } } }),
  );
  if (positionals.length === 0) throw new UsageError(`Name at least one conversation or run id.\n${USAGE}`);
  // The recordings of `npm start` (its dev server, or the database it keeps), or TEMPORAL_ADDRESS.
  const runtime = await startRuntime(
    { ...settings, terminal: { ...settings.terminal, EMBEDDED_WORKER: false, TEMPORAL_UI: false } },
    {
      env: process.env,
      payloadKeys: localPayloadKeys(process.env, settings.stack.DATA_DIR),
      announce: (line) => console.error(line),
      dataDir: settings.stack.DATA_DIR,
      owner: 'npm run eval',
    },
  );
  try {
    const store = createTranscriptStore(settings.transcripts);
    const { cases, skipped } = await exportRecorded(
      { client: runtime.client, store, agents: runtime.registry.agents, secrets: secretValuesOf(process.env) },
      positionals,
    );
    for (const line of skipped) console.error(`  skipped ${line}`);
    for (const evalCase of cases) {
      const { file, written } = writeCase(evalCase, { overwrite: values.force === true });
      const calls = evalCase.recorded.toolCalls.map((call) => call.tool).join(', ') || 'no tool calls';
      console.log(`${written ? 'wrote' : 'kept (exists; --force replaces it)'} ${relative(process.cwd(), file)}  (${calls})`);
    }
    return cases.length ? 0 : 1;
  } finally {
    await runtime.close();
  }
}

async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(() =>
    parseArgs({
      args,
      allowPositionals: true,
      options: {
        model: { type: 'string', multiple: true },
        'prompt-file': { type: 'string', multiple: true },
        cases: { type: 'string' },
        against: { type: 'string' },
        concurrency: { type: 'string' },
        'judge-url': { type: 'string' },
      },
    }),
  );
  if (positionals.length === 0) throw new UsageError(`Name an agent.\n${USAGE}`);
  const models = values.model ?? [];
  const promptFiles = values['prompt-file'] ?? [];
  if (models.length > 2 || promptFiles.length > 2)
    throw new UsageError('Give --model and --prompt-file at most twice: two configurations are compared at a time.');
  const concurrency = values.concurrency === undefined ? 8 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency must be a whole number of cases, 1 or more.');
  const known = registryFrom(settings.agents).agents;
  for (const name of positionals) {
    if (!known.has(name)) throw new UsageError(`No agent named "${name}". Agents: ${[...known.keys()].join(', ')}.`);
    if (Object.keys(mcpServersOf([known.get(name)!])).length)
      throw new UsageError(`Agent "${name}" uses MCP servers; evals do not cover MCP tools yet (docs/evals.md).`);
  }
  // Every case file is read and checked before anything starts.
  const casesOf = new Map(positionals.map((name) => [name, loadCases(name, values.cases)]));
  for (const [name, cases] of casesOf) {
    if (cases.length === 0)
      throw new UsageError(`No cases for ${name}: add evals/${name}/*.json (npm run eval -- export <id>), or point --cases at some.`);
  }
  const baseline = values.against === undefined ? undefined : baselineFrom(values.against);
  const configurations = configurationsOf(models, promptFiles);

  const temporal = await openEvalTemporal(settings, process.env);
  const model = await evalModel(settings, values['judge-url']).catch(async (error: unknown) => {
    await temporal.close();
    throw error;
  });
  try {
    // With a client, as in `npm start` and the worker: the assistant has its schedule tools (which never change anything in an eval).
    const registry = registryFrom(settings.agents, temporal.client);
    console.error(`Model: ${model.description}. Temporal: ${temporal.description}.`);
    // One bundle of the workflows for every agent and configuration of this command, as the worker would build it.
    const { code } = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH],
      logger: new DefaultLogger('ERROR'),
    });
    const runs: EvalRun[] = [];
    for (const [name, cases] of casesOf) {
      const agentRuns: EvalRun[] = [];
      for (const configuration of configurations) {
        console.error(`${name}, ${configuration.label}: ${cases.length} case(s)`);
        const run = await runCases({
          client: temporal.client,
          connection: temporal.connection,
          namespace: temporal.namespace,
          agent: registry.get(name),
          cases,
          configuration,
          store: createTranscriptStore(settings.transcripts),
          gemini: model.gemini,
          modelKind: model.kind,
          ...(model.judge ? { judge: model.judge } : {}),
          concurrency,
          workflowBundle: { code },
          onCase: (result, done, total) => console.error(progressLine(result, done, total)),
        });
        const file = writeResults(run);
        console.log(resultTable(run));
        console.log(`Results: ${relative(process.cwd(), file)}`);
        agentRuns.push(run);
      }
      if (agentRuns.length === 2) console.log(`\n${compareRuns(agentRuns[0]!, agentRuns[1]!).text}`);
      if (baseline?.agent === name) console.log(`\n${compareRuns(baseline, agentRuns.at(-1)!).text}`);
      runs.push(...agentRuns);
    }
    if (baseline && !casesOf.has(baseline.agent))
      console.error(`--against ${values.against} holds a run of ${baseline.agent}, which this command did not run: nothing compared.`);
    return runs.every((run) => run.summary.passed === run.summary.total) ? 0 : 1;
  } finally {
    await model.close();
    await temporal.close();
  }
}

function listCommand(): number {
  const files = listResults();
  if (files.length === 0) console.log('No eval results yet: npm run eval -- run <agent>.');
  for (const file of files) {
    const run = readResults(file);
    console.log(
      `${relative(process.cwd(), file)}  ${run.agent}  ${run.configuration.label}  ${run.summary.passed}/${run.summary.total} passed`,
    );
  }
  return 0;
}

/** One configuration, or two when --model or --prompt-file is given twice (the other option, given once, applies to both). */
function configurationsOf(models: string[], promptFiles: string[]): EvalConfiguration[] {
  const count = Math.max(1, models.length, promptFiles.length);
  return Array.from({ length: count }, (_, index) => {
    const model = models[index] ?? models[0];
    const promptFile = promptFiles[index] ?? promptFiles[0];
    const instructions = promptFile === undefined ? undefined : readPromptFile(promptFile);
    const label = [model ? `model=${model}` : '', promptFile ? `prompt=${promptFile}` : ''].filter(Boolean).join(' ') || 'as defined';
    return { label, ...(model ? { model } : {}), ...(instructions === undefined ? {} : { instructions, promptFile }) };
  });
}

function baselineFrom(file: string): EvalRun {
  try {
    return readResults(file);
  } catch (error) {
    throw new UsageError(
      `--against ${file} cannot be read as eval results (${(error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0]}).`,
    );
  }
}

function readPromptFile(file: string): string {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (!text) throw new UsageError(`--prompt-file ${file} is empty.`);
    return text;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--prompt-file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
}

function parse<Parsed>(parseCommandLine: () => Parsed): Parsed {
  try {
    return parseCommandLine();
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
}
