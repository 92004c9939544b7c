import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory of a process from /proc: now, and its high-water mark. Undefined once it is gone. */
export function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used, from /proc/<pid>/stat; 0 when unreadable. */
export function cpuSecondsOf(pid: number): number {
  const fields = statFields(pid);
  if (!fields) return 0;
  // Fields after the command: utime and stime are the 14th and 15th of the line, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Pids of this process's descendants whose command name contains `name` (the dev server runs as `temporal`). */
export function childProcessesNamed(root: number, name: string): number[] {
  const parents = new Map<number, { ppid: number; command: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const fields = statFields(pid);
    const command = commandOf(pid);
    if (fields && command !== undefined) parents.set(pid, { ppid: Number(fields[1]), command });
  }
  const descends = (pid: number): boolean => {
    for (let current = parents.get(pid)?.ppid; current; current = parents.get(current)?.ppid) if (current === root) return true;
    return false;
  };
  return [...parents].filter(([pid, info]) => info.command.includes(name) && descends(pid)).map(([pid]) => pid);
}

/** /proc/<pid>/stat after the command's closing parenthesis: state, ppid, … */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  } catch {
    return undefined;
  }
}
