import { parseArgs } from 'node:util';
import { runHistory } from './history.ts';
import { runOverhead } from './overhead.ts';
import { runCapacity } from './capacity.ts';
import { saveSection, type Section } from './report.ts';

const PARTS: Section[] = ['history', 'overhead', 'capacity'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    steps: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});

const unknown = positionals.filter((part) => !PARTS.includes(part as Section));
if (unknown.length) {
  console.error(`Unknown part ${unknown.join(', ')}: use ${PARTS.join(', ')} (or none for all).`);
  process.exit(2);
}
const parts = positionals.length ? (positionals as Section[]) : PARTS;
const log = values.quiet ? undefined : (line: string) => console.error(`[bench] ${line}`);

for (const part of parts) {
  log?.(`${part}: starting`);
  const { section, text } = await runPart(part);
  saveSection(part, section);
  console.log(`\n== ${part} ==\n${text}\n`);
}

async function runPart(part: Section): Promise<{ section: unknown; text: string }> {
  switch (part) {
    case 'history':
      return runHistory({ ...(values.steps ? { counts: values.steps.split(',').map(Number) } : {}), ...(log ? { log } : {}) });
    case 'overhead':
      return runOverhead({ ...(log ? { log } : {}) });
    case 'capacity':
      return runCapacity({ ...(values.runs ? { runs: Number(values.runs) } : {}), ...(log ? { log } : {}) });
  }
}
