/**
 * The arithmetic of `npm run faults`, kept apart from the processes so a unit test covers it:
 * from what was sent, what the edge accepted, what Slack and SES received, what the tools'
 * own side effects saw and what Temporal's histories say, one row per fault.
 */

export interface SentMessage {
  marker: string;
  channel: 'slack' | 'email';
  sentAt: number;
  /** When the edge first answered 2xx (after Slack's retries or SQS's redeliveries); absent: never accepted. */
  acceptedAt?: number;
}

/** One tool call's executions, counted from the tool's own side effect, and what Temporal recorded of it. */
export interface ToolCallRecord {
  marker: string;
  /** Times the side effect happened (requests the service saw, lines the file got). */
  executions: number;
  /** Activities Temporal scheduled for this call (one, unless a finished call was scheduled again). Absent: history unread. */
  scheduled?: number;
  /** Attempts Temporal started, summed over those activities (a retry after a kill is attempt 2). */
  attempts?: number;
  /**
   * The tool changes nothing (`defineTool`'s `readOnly`): it runs inside its run's workflow task
   * (a local activity, or inside the model call), and a task whose completion is lost (a kill, a
   * cut connection) runs it again. That is allowed: its extra runs are reruns, never repeats.
   */
  readOnly?: boolean;
}

export interface FaultWindow {
  /** When the fault began (the kill, the cut). */
  start: number;
  /** When it ended (the replacement polling, the route restored). */
  end: number;
}

export interface FaultRow {
  fault: string;
  sent: number;
  accepted: number;
  answered: number;
  /** Accepted messages answered more than once. */
  answeredMoreThanOnce: number;
  /** Accepted, and never answered within the row's deadline. */
  lost: number;
  /** Tool calls whose attempt was in flight at the fault and ran once more. */
  toolRerunsInFlight: number;
  /** Tool calls that had finished and ran again: the goal is none. */
  finishedToolCallsRepeated: number;
  /** From the fault's end until every accepted message sent before it was answered (0 when none waited). */
  recoverSeconds: number | null;
  meetsGoal: boolean;
  /** What the goal missed, in words; empty when it holds. */
  notes: string[];
}

export interface RowInput {
  fault: string;
  messages: SentMessage[];
  /** Times each answer arrived, per marker (one entry per answer message Slack or SES received). */
  answers: Map<string, number[]>;
  tools: ToolCallRecord[];
  window: FaultWindow;
}

/** Finished repeats and in-flight reruns of one call: executions beyond the attempts Temporal ran are repeats of a finished call. */
export function classifyToolCall(record: ToolCallRecord): { inFlight: number; finishedRepeated: number } {
  if (record.executions <= 1) return { inFlight: 0, finishedRepeated: 0 };
  if (record.readOnly) return { inFlight: record.executions - 1, finishedRepeated: 0 };
  // Without the history nothing shows the extra runs were retries: count them against the goal.
  if (record.scheduled === undefined || record.attempts === undefined) return { inFlight: 0, finishedRepeated: record.executions - 1 };
  const finishedRepeated = Math.max(0, record.scheduled - 1) + Math.max(0, record.executions - record.attempts);
  return { inFlight: Math.max(0, record.executions - 1 - finishedRepeated), finishedRepeated };
}

export function countRow(input: RowInput): FaultRow {
  const accepted = input.messages.filter((message) => message.acceptedAt !== undefined);
  const answered = accepted.filter((message) => (input.answers.get(message.marker)?.length ?? 0) > 0);
  const twice = accepted.filter((message) => (input.answers.get(message.marker)?.length ?? 0) > 1);
  const lost = accepted.length - answered.length;
  let inFlight = 0;
  let finished = 0;
  for (const call of input.tools) {
    const classified = classifyToolCall(call);
    inFlight += classified.inFlight;
    finished += classified.finishedRepeated;
  }
  // Messages sent before the fault ended, including those the edge refused until then and accepted on a retry.
  const waited = accepted.filter((message) => message.sentAt <= input.window.end);
  let recoverSeconds: number | null = 0;
  for (const message of waited) {
    const first = Math.min(...(input.answers.get(message.marker) ?? []));
    if (!Number.isFinite(first)) {
      recoverSeconds = null;
      break;
    }
    recoverSeconds = Math.max(recoverSeconds, (first - input.window.end) / 1000);
  }
  const notes: string[] = [];
  if (lost > 0)
    notes.push(
      `${lost} accepted message(s) never answered: ${accepted
        .filter((message) => !answered.includes(message))
        .map((message) => message.marker)
        .join(', ')}`,
    );
  if (twice.length > 0)
    notes.push(
      `answered more than once: ${twice.map((message) => `${message.marker} (${input.answers.get(message.marker)!.length})`).join(', ')}`,
    );
  if (finished > 0) notes.push(`${finished} finished tool call(s) ran again`);
  const refused = input.messages.length - accepted.length;
  if (refused > 0) notes.push(`${refused} message(s) never accepted by the edge (not counted as lost: the sender was told)`);
  return {
    fault: input.fault,
    sent: input.messages.length,
    accepted: accepted.length,
    answered: answered.length,
    answeredMoreThanOnce: twice.length,
    lost,
    toolRerunsInFlight: inFlight,
    finishedToolCallsRepeated: finished,
    recoverSeconds: recoverSeconds === null ? null : Math.round(Math.max(0, recoverSeconds) * 10) / 10,
    meetsGoal: lost === 0 && twice.length === 0 && finished === 0 && accepted.length > 0,
    notes,
  };
}

/** The rows as a plain-text table, the goal's verdict in the last column. */
export function formatRows(rows: FaultRow[]): string {
  const header = [
    'fault',
    'sent',
    'accepted',
    'answered',
    'answered >1',
    'lost',
    'tool reruns (in flight)',
    'finished tool calls repeated',
    'recover (s)',
    'goal',
  ];
  const cells = rows.map((row) => [
    row.fault,
    row.sent,
    row.accepted,
    row.answered,
    row.answeredMoreThanOnce,
    row.lost,
    row.toolRerunsInFlight,
    row.finishedToolCallsRepeated,
    row.recoverSeconds === null ? '–' : row.recoverSeconds.toFixed(1),
    row.meetsGoal ? 'met' : 'MISSED',
  ]);
  return [header, ...cells.map((row) => row.map(String))]
    .map((row, index) => (index === 1 ? `| ${header.map(() => '---').join(' | ')} |\n` : '') + `| ${row.join(' | ')} |`)
    .join('\n');
}
