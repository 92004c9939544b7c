/**
 * One JSON object per line on stdout, which CloudWatch indexes field by field. Callers log
 * ids, outcomes and reasons: never a secret, a token or a message body.
 */
export type Log = (fields: Record<string, unknown>) => void;

export const jsonLog: Log = (fields) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
};

export const silentLog: Log = () => undefined;
