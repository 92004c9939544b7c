/**
 * What a local program has started, to stop in reverse order: a part that fails to start stops
 * the ones before it, and `close()` stops them all. A closer that fails does not keep the others
 * from running.
 */
export interface Closers {
  /** Registers how to stop a part just started. */
  add(closer: () => Promise<void>): void;
  close(): Promise<void>;
}

export function createClosers(): Closers {
  const closers: (() => Promise<void>)[] = [];
  return {
    add: (closer) => void closers.push(closer),
    close: async () => {
      for (const closer of closers.reverse()) await closer().catch(() => undefined);
    },
  };
}
