import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as z from 'zod';
import { defineTool } from '../../authoring/define-tool.ts';

export interface SubmitExpenseOptions {
  /** JSON-lines file claims are appended to. */
  file: string;
  /** Claims above this many euros need a person's approval. @default 100 */
  approvalAboveEur?: number;
}

/** Files an expense claim: a side effect, so large claims wait for a person's approval. */
export function createSubmitExpenseTool(options: SubmitExpenseOptions) {
  const threshold = options.approvalAboveEur ?? 100;
  return defineTool({
    name: 'submit_expense',
    description: `Files an expense claim for reimbursement. Claims above ${threshold} EUR wait for a person's approval.`,
    input: z.object({
      description: z.string().min(1).max(300).describe('What was bought and why, e.g. "Monitor for the office".'),
      amountEur: z.number().positive().max(100_000).describe('Amount in euros.'),
    }),
    timeout: '10 seconds',
    approval: ({ amountEur }) => amountEur > threshold,
    async handler({ description, amountEur }) {
      const claim = { id: crypto.randomUUID(), description, amountEur, filedAt: new Date().toISOString() };
      await mkdir(dirname(options.file), { recursive: true });
      await appendFile(options.file, `${JSON.stringify(claim)}\n`);
      return { filed: true, claim };
    },
  });
}
