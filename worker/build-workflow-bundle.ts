// `npm run build:workflows [-- --out <file>] [--replay <histories dir>]`: bundles workflows/ once
// (the image runs it at build time) and, with --replay, replays the recorded histories with that
// very bundle before writing it: a bundle that fails the replay gate is never written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { buildWorkflowBundle, DEFAULT_WORKFLOW_BUNDLE_PATH, replayRecordedHistories } from './workflow-bundle.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, replay: { type: 'string' } } });
const out = resolve(values.out ?? DEFAULT_WORKFLOW_BUNDLE_PATH);

const started = performance.now();
const code = await buildWorkflowBundle();
console.error(
  `Bundled workflows/: ${(Buffer.byteLength(code) / 1024 / 1024).toFixed(1)} MiB in ${Math.round(performance.now() - started)} ms.`,
);
if (values.replay) {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  try {
    const replayed = await replayRecordedHistories(code, resolve(values.replay));
    console.error(`Replayed ${replayed.length} recorded histories with this bundle.`);
  } catch (error) {
    console.error(`Bundle not written: a recorded history does not replay with it (${(error as Error).message.split('\n')[0]}).`);
    process.exit(1);
  }
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
console.error(`Wrote ${out}.`);
