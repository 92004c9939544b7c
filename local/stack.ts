import { join } from 'node:path';
import { Runtime } from '@temporalio/worker';
import { ConfigError, settingsOrExit } from '../config/load-settings.ts';
import { fileLogger } from './file-logger.ts';
import { loadStackSettings } from '../config/local-settings.ts';
import { startStack } from './start-stack.ts';
import { StartupError } from './startup-error.ts';

// `npm start`: the whole system on this machine, one status line per part, then the console's address.
const settings = settingsOrExit(() => loadStackSettings(process.env), 'npm start: ');
// The SDK's warnings (a retried activity prints 25 lines with its task token) go to a file.
Runtime.install({ logger: fileLogger(join(settings.stack.DATA_DIR, 'logs', 'worker.log')) });

const started = Date.now();
const status = (part: string, line: string) => console.log(`  ${part.padEnd(10)} ${line}`);
let stack;
try {
  stack = await startStack(settings, { env: process.env, status });
} catch (error) {
  if (!(error instanceof StartupError || error instanceof ConfigError)) throw error;
  console.error(`npm start: ${error.message}`);
  process.exit(1);
}
console.log(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Open the console: ${stack.consoleUrl}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('Stopping (turns in flight carry on at the next npm start)…');
    void stack.close().then(() => process.exit(0));
  });
}
