import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { classifyToolCall, countRow, formatRows, type SentMessage } from '../../bench/faults/count.ts';
import { startFaultProxy } from '../../bench/faults/fault-proxy.ts';
import { answeredMarker, answerText, ipOf, markerName } from '../../bench/faults/script.ts';

// npm run faults takes many minutes; these are its counting and its TCP fault proxy, which CI runs.

const window = { start: 10_000, end: 20_000 };
const message = (marker: string, sentAt: number, acceptedAt?: number): SentMessage => ({
  marker,
  channel: 'slack',
  sentAt,
  ...(acceptedAt !== undefined ? { acceptedAt } : {}),
});

describe('npm run faults: counting a row', () => {
  it('meets the goal when each accepted message has one answer and no finished tool call ran again', () => {
    const row = countRow({
      fault: 'worker SIGKILL during a tool call',
      messages: [message('FX0001', 1000, 1100), message('FX0002', 12_000, 12_100), message('FX0003', 25_000, 25_100)],
      answers: new Map([
        ['FX0001', [5000]],
        ['FX0002', [31_500]],
        ['FX0003', [27_000]],
      ]),
      // FX0002's call was in flight at the kill: a second attempt ran it again, as Temporal's history shows.
      tools: [
        { marker: 'FX0001', executions: 1 },
        { marker: 'FX0002', executions: 2, scheduled: 1, attempts: 2 },
        { marker: 'FX0003', executions: 1 },
      ],
      window,
    });
    expect(row).toMatchObject({
      sent: 3,
      accepted: 3,
      answered: 3,
      answeredMoreThanOnce: 0,
      lost: 0,
      toolRerunsInFlight: 1,
      finishedToolCallsRepeated: 0,
      recoverSeconds: 11.5,
      meetsGoal: true,
      notes: [],
    });
  });

  it('misses it for a message answered twice, one never answered, and a finished call run again', () => {
    const row = countRow({
      fault: 'f',
      messages: [message('FX0001', 1000, 1100), message('FX0002', 2000, 2100), message('FX0003', 3000)],
      answers: new Map([['FX0001', [5000, 9000]]]),
      tools: [{ marker: 'FX0001', executions: 2, scheduled: 1, attempts: 1 }],
      window,
    });
    expect(row).toMatchObject({
      sent: 3,
      accepted: 2,
      answered: 1,
      answeredMoreThanOnce: 1,
      lost: 1,
      finishedToolCallsRepeated: 1,
      recoverSeconds: null,
      meetsGoal: false,
    });
    expect(row.notes.join('\n')).toContain('FX0002');
    expect(row.notes.join('\n')).toContain('never accepted');
    expect(formatRows([row])).toContain('| f | 3 | 2 | 1 | 1 | 1 | 0 | 1 | – | MISSED |');
  });

  it('classifies repeated executions: attempts are reruns, extra schedules and runs past the attempts are repeats', () => {
    expect(classifyToolCall({ marker: 'x', executions: 1 })).toEqual({ inFlight: 0, finishedRepeated: 0 });
    expect(classifyToolCall({ marker: 'x', executions: 3, scheduled: 1, attempts: 3 })).toEqual({ inFlight: 2, finishedRepeated: 0 });
    expect(classifyToolCall({ marker: 'x', executions: 2, scheduled: 2, attempts: 2 })).toEqual({ inFlight: 0, finishedRepeated: 1 });
    // No history to show they were retries: counted against the goal.
    expect(classifyToolCall({ marker: 'x', executions: 2 })).toEqual({ inFlight: 0, finishedRepeated: 1 });
    // A read-only call may run again whenever its task is lost: reruns, never repeats.
    expect(classifyToolCall({ marker: 'x', executions: 3, readOnly: true })).toEqual({ inFlight: 2, finishedRepeated: 0 });
  });

  it('keys tool calls and answers by marker', () => {
    expect(markerName(42)).toBe('FX0042');
    expect(ipOf('FX0042')).toBe('10.0.0.42');
    expect(ipOf('FX0300')).toBe('10.0.1.44');
    expect(answeredMarker(answerText('FX0042'))).toBe('FX0042');
    expect(answeredMarker(':hourglass: thinking about FX0042')).toBeUndefined();
  });
});

describe('npm run faults: the fault proxy', () => {
  it('forwards, refuses while cut, still answers (late) while slow, and recovers', async () => {
    // A cut resets the proxy's connection to the service too.
    const echo = createServer((socket) => socket.on('data', (chunk) => socket.write(chunk)).on('error', () => undefined));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
    const port = Number(new URL(proxy.url).port);
    const roundTrip = () =>
      new Promise<{ answer: string }>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write('ping'));
        socket.once('data', (chunk) => {
          resolve({ answer: chunk.toString() });
          socket.destroy();
        });
        socket.once('error', reject);
      });
    try {
      expect((await roundTrip()).answer).toBe('ping');
      proxy.cut();
      await expect(roundTrip()).rejects.toThrow();
      proxy.restore();
      proxy.slow(300);
      expect((await roundTrip()).answer).toBe('ping');
      proxy.restore();
      expect((await roundTrip()).answer).toBe('ping');
    } finally {
      await proxy.close();
      await new Promise((resolve) => echo.close(resolve));
    }
  });
});
