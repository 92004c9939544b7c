// `npm run deployment -- describe | current <build-id> | ramp <build-id> <percent> | ramp off`:
// shows the worker deployment's versions, and routes new runs to one of them. A build id may be
// given as `--outputs <file>`: the file `cdk deploy --outputs-file <file>` wrote, whose
// WorkerBuildId (and WorkerDeploymentName) the stack outputs.
import { readFileSync } from 'node:fs';
import { connectOrExit, errorLine } from './connect.ts';
import {
  clearRampingVersion,
  describeDeployment,
  setCurrentVersion,
  setRampingVersion,
  whenVersionReady,
  type DeploymentSummary,
} from '../temporal-client/worker-deployment.ts';
import { loadSettingsFrom } from '../config/load-settings.ts';
import { deploymentCommandSchema } from '../config/cli-settings.ts';

const USAGE =
  'Usage: npm run deployment -- describe | current <build-id | --outputs file> | ramp <build-id | --outputs file> <percent> | ramp off';

const [command, ...rest] = process.argv.slice(2);
const fail = (message: string, code = 2): never => {
  console.error(message);
  process.exit(code);
};

const settings = (() => {
  try {
    return loadSettingsFrom(deploymentCommandSchema, process.env, 'deployment');
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const target = parseTarget(command, rest);
if (!settings.TEMPORAL_ADDRESS)
  fail('Set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE, TEMPORAL_TLS_* or TEMPORAL_API_KEY) to reach the Temporal the workers poll.');
const { connection, client } = await connectOrExit(settings.TEMPORAL_ADDRESS!, 'Check TEMPORAL_ADDRESS.');
let code = 0;
try {
  const version = target.buildId ? { deploymentName: target.deploymentName, buildId: target.buildId } : undefined;
  let waiting = false;
  const onWait = () => {
    if (!waiting) console.error(`Waiting for the workers of ${target.buildId} to poll every task queue…`);
    waiting = true;
  };
  if (command === 'current') {
    await whenVersionReady(() => setCurrentVersion(client, version!), { onWait });
    console.log(`${target.deploymentName}.${target.buildId} is current: new runs start on it; pinned runs finish where they started.`);
  } else if (command === 'ramp' && version) {
    await whenVersionReady(() => setRampingVersion(client, version, target.percent!), { onWait });
    console.log(`${target.deploymentName}.${target.buildId} ramps: it takes ${target.percent}% of new runs.`);
  } else if (command === 'ramp') {
    await clearRampingVersion(client, target.deploymentName);
    console.log(`No version ramps in ${target.deploymentName}: the current version takes every new run.`);
  }
  console.log(formatDeployment(await describeDeployment(client, target.deploymentName)));
} catch (error) {
  console.error(`deployment ${command} failed: ${errorLine(error)}`);
  code = 1;
} finally {
  await connection.close();
}
process.exit(code);

interface Target {
  deploymentName: string;
  buildId?: string;
  percent?: number;
}

function parseTarget(name: string | undefined, args: string[]): Target {
  const fromFile = args[0] === '--outputs' ? readOutputs(args[1]) : undefined;
  const positional = fromFile ? args.slice(2) : args;
  const deploymentName = settings.TEMPORAL_DEPLOYMENT_NAME ?? fromFile?.deploymentName ?? 'durable-agents';
  const buildId = fromFile?.buildId ?? positional[0];
  const extra = fromFile ? positional : positional.slice(1);
  switch (name) {
    case 'describe':
      if (args.length > 0) break;
      return { deploymentName };
    case 'current':
      if (!buildId || extra.length > 0) break;
      return { deploymentName, buildId };
    case 'ramp': {
      if (!fromFile && positional.length === 1 && positional[0] === 'off') return { deploymentName };
      const percent = Number(extra[0]);
      if (!buildId || extra.length !== 1 || !(percent >= 0 && percent <= 100)) break;
      return { deploymentName, buildId, percent };
    }
  }
  return fail(name ? `Cannot read "${process.argv.slice(2).join(' ')}". ${USAGE}` : USAGE);
}

/** WorkerBuildId and WorkerDeploymentName from `cdk deploy --outputs-file`'s JSON: `{ "<stack>": { "<output>": "…" } }`. */
function readOutputs(path: string | undefined): { buildId: string; deploymentName?: string } {
  if (!path) return fail(`--outputs needs the file cdk deploy --outputs-file wrote. ${USAGE}`);
  let outputs: Record<string, Record<string, string>>;
  try {
    outputs = JSON.parse(readFileSync(path, 'utf8')) as typeof outputs;
  } catch (error) {
    return fail(`Cannot read ${path}: ${errorLine(error)}`);
  }
  const stack = Object.values(outputs).find((values) => values.WorkerBuildId);
  if (!stack?.WorkerBuildId)
    return fail(`${path} has no WorkerBuildId output: deploy with a workerDeploymentName (the default) and --outputs-file ${path}.`);
  return { buildId: stack.WorkerBuildId, ...(stack.WorkerDeploymentName ? { deploymentName: stack.WorkerDeploymentName } : {}) };
}

function formatDeployment(summary: DeploymentSummary): string {
  const lines = [
    `Deployment ${summary.name}: current ${summary.current ?? '(none: unversioned workers)'}${summary.ramping ? `, ramping ${summary.ramping.buildId} at ${summary.ramping.percentage}%` : ''}`,
  ];
  for (const version of summary.versions)
    lines.push(
      `  ${version.buildId}  ${version.status}${version.drainage && version.drainage !== version.status ? ` (${version.drainage})` : ''}`,
    );
  // What the next deploy must keep running: every version that takes new runs or still has pinned ones.
  const keep = summary.versions
    .filter((version) => ['current', 'ramping', 'draining'].includes(version.status))
    .map((version) => version.buildId);
  lines.push(`Next deploy keeps: -c workerDrainingBuildIds=${keep.join(',')}`);
  return lines.join('\n');
}
