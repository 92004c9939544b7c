import type { RunEvent } from '../core/run-events.ts';
import { summarise } from '../core/run-events.ts';

const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);

/** One line of live progress for a terminal, or undefined for events shown otherwise. */
export function formatEvent(event: RunEvent): string | undefined {
  switch (event.kind) {
    case 'model':
      return dim(`  · step ${event.step}: model call`);
    case 'tool':
      return dim(`  · step ${event.step}: ${event.tool}(${summarise(JSON.stringify(event.args), 120)})`);
    case 'tool_start':
      return undefined;
    case 'tool_result':
      return dim(`    ${event.ok ? '→' : '✗'} ${event.excerpt}`);
    case 'approval':
      if (event.outcome === 'requested') return dim(`    ? ${event.tool} waits for approval`);
      return dim(
        `    ${event.outcome === 'approved' ? '✓' : '✗'} ${event.tool}: ${event.outcome.replace('_', ' ')}${event.by ? ` by ${event.by}` : ''}`,
      );
    case 'sub_agent':
      return dim(`  · step ${event.step}: asks the ${event.agent} agent`);
    case 'answer':
      return undefined;
  }
}
