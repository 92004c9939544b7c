import { loadSettings } from '../core/config.ts';
import { startRuntime } from '../local/runtime.ts';

const settings = loadSettings();
const runtime = await startRuntime(settings, { worker: true, announce: (line) => console.error(line) });
console.error(`Worker polling task queue "${runtime.taskQueue}".`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void runtime.close().then(() => process.exit(0)));
}
