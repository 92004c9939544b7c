import type { Interface } from 'node:readline';

export interface LineReader {
  /** Shows `prompt` and resolves with the next line, or undefined once input has ended. */
  ask(prompt: string): Promise<string | undefined>;
}

/**
 * Lines from a readline interface, queued: a line typed (or piped) while nothing asks is kept
 * for the next question instead of being lost, so `printf '…' | npm start` works too.
 */
export function lineReader(terminal: Interface): LineReader {
  const queued: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let ended = false;
  terminal.on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else queued.push(line);
  });
  terminal.on('close', () => {
    ended = true;
    for (const waiter of waiting.splice(0)) waiter(undefined);
  });
  // Piped input is not echoed by the terminal: echo it, so a transcript of the session reads right.
  const echo = (line: string | undefined) => {
    if (line !== undefined && !process.stdin.isTTY) process.stdout.write(`${line}\n`);
    return line;
  };
  return {
    ask(prompt) {
      if (queued.length === 0 && ended) return Promise.resolve(undefined);
      if (ended) {
        process.stdout.write(prompt);
      } else {
        terminal.setPrompt(prompt);
        terminal.prompt();
      }
      if (queued.length > 0) return Promise.resolve(echo(queued.shift()));
      return new Promise((resolve) => waiting.push((line) => resolve(echo(line))));
    },
  };
}
