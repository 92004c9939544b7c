import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of one service (moto's S3 or SQS endpoint), for `npm run faults`:
 * `cut()` makes the service unreachable through it (open connections are reset and new ones
 * refused at once, as when a route or an endpoint is gone), `slow(ms)` holds every answer
 * back that long (the service did the work; the caller may have given up), `restore()`
 * brings it back to normal.
 */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: the endpoint to give the clients under test. */
  url: string;
  cut(): void;
  slow(delayMs: number): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let cut = false;
  let delayMs = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const forget = () => {
      open.delete(client);
      open.delete(upstream);
    };
    client.on('close', forget);
    upstream.on('close', forget);
    // An error on one side ends the other: the caller sees a reset, as it would from the service.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    // Answers pass at once, or after the delay in force; never before an earlier chunk held back.
    let releasedAt = 0;
    const later = (action: () => void) => {
      releasedAt = Math.max(Date.now() + delayMs, releasedAt);
      const wait = releasedAt - Date.now();
      if (wait <= 0) action();
      else setTimeout(() => client.destroyed || action(), wait);
    };
    upstream.on('data', (chunk: Buffer) => later(() => client.write(chunk)));
    upstream.on('end', () => later(() => client.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      cut = true;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    slow(ms) {
      delayMs = ms;
    },
    restore() {
      cut = false;
      delayMs = 0;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
