// `npm run costs -- [since] [until]`: what the agents spent, by agent and by person, from what
// the runs recorded (dates as YYYY-MM-DD, UTC; since defaults to 7 days ago, until to now).
import { collectRunCosts, formatCostTable, summariseCosts } from '../temporal-client/costs.ts';
import { costsCommandSchema } from '../config/cli-settings.ts';
import { MODEL_TABLE_DATE } from '../core/models.ts';
import { errorLine, settingsAndClientOrExit } from './connect.ts';

const USAGE = 'Usage: npm run costs -- [since YYYY-MM-DD] [until YYYY-MM-DD]   (UTC; since defaults to 7 days ago, until to now)';

const [sinceText, untilText, ...extra] = process.argv.slice(2);
const day = (text: string | undefined) =>
  text === undefined ? undefined : /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : null;
const since = day(sinceText) ?? new Date(Date.now() - 7 * 86_400_000);
const until = day(untilText) ?? new Date();
if (
  extra.length > 0 ||
  day(sinceText) === null ||
  day(untilText) === null ||
  Number.isNaN(since.getTime()) ||
  Number.isNaN(until.getTime()) ||
  since >= until
) {
  console.error(USAGE);
  process.exit(2);
}

const { connection, client } = await settingsAndClientOrExit(costsCommandSchema, 'costs');
let code = 0;
try {
  let unreadable = 0;
  const costs = await collectRunCosts(client, { since, until }, { onUnreadable: () => (unreadable += 1) });
  if (unreadable > 0)
    console.log(
      `${unreadable} run(s) skipped: written with payload keys this program does not hold (PAYLOAD_KEYS, or .data/payload-keys.json).`,
    );
  const total = costs.reduce((sum, cost) => sum + cost.cost, 0);
  console.log(
    `From ${since.toISOString()} to ${until.toISOString()}: ${costs.length} run(s), $${total.toFixed(4)} at the prices of core/models.ts (${MODEL_TABLE_DATE}).`,
  );
  console.log('');
  console.log(
    formatCostTable(
      'agent',
      summariseCosts(costs, (cost) => cost.agent),
    ),
  );
  console.log('');
  console.log(
    formatCostTable(
      'person',
      summariseCosts(costs, (cost) => cost.person ?? '(scheduled)'),
    ),
  );
} catch (error) {
  console.error(`costs failed: ${errorLine(error)}`);
  code = 1;
} finally {
  await connection.close();
}
process.exit(code);
