// `npm run schedules -- sync | list | trigger <id> | pause <id> [note] | unpause <id> [note]`:
// makes Temporal's schedules match the agents' triggers, and shows or steers them.
import { errorLine, settingsAndClientOrExit } from './connect.ts';
import { createAgentRegistry } from '../agents/index.ts';
import {
  listSchedules,
  pauseSchedule,
  syncSchedules,
  triggerSchedule,
  unpauseSchedule,
  UnknownScheduleError,
} from '../temporal-client/schedules.ts';
import { ConfigError } from '../config/load-settings.ts';
import { schedulesCommandSchema } from '../config/cli-settings.ts';
import { formatScheduleTable, formatSyncSummary } from './schedules-table.ts';

const USAGE = 'Usage: npm run schedules -- sync | list | trigger <id> | pause <id> [note] | unpause <id> [note]';

const [command, id, ...noteWords] = process.argv.slice(2);
const note = noteWords.join(' ').trim() || undefined;
const needsId = command === 'trigger' || command === 'pause' || command === 'unpause';
if (!command || !['sync', 'list', 'trigger', 'pause', 'unpause'].includes(command) || (needsId && !id) || (!needsId && id)) {
  console.error(command ? `Unknown command "${process.argv.slice(2).join(' ')}". ${USAGE}` : USAGE);
  process.exit(2);
}

const { settings, connection, client } = await settingsAndClientOrExit(schedulesCommandSchema, 'schedules');

let code = 0;
try {
  const taskQueue = settings.TEMPORAL_TASK_QUEUE;
  const deployment = settings.AGENTS_DEPLOYMENT ?? taskQueue;
  switch (command) {
    case 'sync': {
      const agents = [...createAgentRegistry().agents.values()];
      console.log(formatSyncSummary(await syncSchedules({ client, taskQueue, deployment, agents }), taskQueue));
      break;
    }
    case 'list':
      console.log(formatScheduleTable(await listSchedules({ client, agents: createAgentRegistry().agents.values(), deployment })));
      break;
    case 'trigger':
      await triggerSchedule(client, id!);
      console.log(`Triggered ${id} (skipped if a run of it is still going).`);
      break;
    case 'pause':
      await pauseSchedule(client, id!, note);
      console.log(`Paused ${id}.`);
      break;
    case 'unpause':
      await unpauseSchedule(client, id!, note);
      console.log(`Unpaused ${id}.`);
      break;
  }
} catch (error) {
  if (error instanceof UnknownScheduleError) {
    console.error(`${error.message} ${USAGE}`);
    code = 2;
  } else if (error instanceof ConfigError || error instanceof TypeError) {
    // A trigger that fails validation names its agent and trigger.
    console.error(errorLine(error));
    code = 2;
  } else {
    console.error(`schedules ${command} failed: ${errorLine(error)}`);
    code = 1;
  }
} finally {
  await connection.close();
}
process.exit(code);
