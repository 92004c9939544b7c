import { appMentionRequest } from './slack-requests.ts';

export interface Target {
  name: string;
  /** Base URL of the served handler. */
  url: string;
}

/** An answer other than 200 is a failed measurement, never a fast sample. */
export class RefusedRequest extends Error {
  override name = 'RefusedRequest';
}

/** Time from sending one signed `app_mention` to having the whole 200 response, in ms. */
export async function timeAcknowledgement(target: Target, index: number, run: number): Promise<number> {
  const { body, headers } = appMentionRequest(index, run);
  const started = performance.now();
  const response = await fetch(`${target.url}/slack/events`, { method: 'POST', body, headers });
  const text = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200)
    throw new RefusedRequest(`${target.name} answered ${response.status} to request ${run}/${index}: ${text.slice(0, 300)}`);
  return elapsed;
}

export interface RoundOptions {
  /** Called between chunks of requests, outside any timing (the bench drains its queues there). */
  pause?: () => Promise<void>;
}

/**
 * `requests` requests to each target, one at a time, the targets taking turns request by
 * request, so that whatever else the machine does falls on all of them alike; `pause` runs
 * after every `pauseEvery` turns.
 */
export async function sequentialRounds(
  targets: Target[],
  options: RoundOptions & { requests: number; run: number; pauseEvery?: number },
): Promise<Map<string, number[]>> {
  const samples = new Map(targets.map((target) => [target.name, [] as number[]]));
  for (let index = 0; index < options.requests; index += 1) {
    for (const target of targets) samples.get(target.name)!.push(await timeAcknowledgement(target, index, options.run));
    if (options.pause && options.pauseEvery && (index + 1) % options.pauseEvery === 0) await options.pause();
  }
  return samples;
}

/**
 * `requests` requests to each target with `concurrency` in flight, in `blocks` blocks per
 * target; the targets take turns block by block, and `pause` runs after each turn.
 */
export async function concurrentRounds(
  targets: Target[],
  options: RoundOptions & { requests: number; concurrency: number; blocks: number; run: number },
): Promise<Map<string, { samples: number[]; seconds: number }>> {
  const results = new Map(targets.map((target) => [target.name, { samples: [] as number[], seconds: 0 }]));
  const perBlock = Math.ceil(options.requests / options.blocks);
  for (let block = 0; block < options.blocks; block += 1) {
    for (const target of targets) {
      const result = results.get(target.name)!;
      const first = block * perBlock;
      const last = Math.min(options.requests, first + perBlock);
      let next = first;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (next < last) result.samples.push(await timeAcknowledgement(target, next++, options.run));
        }),
      );
      result.seconds += (performance.now() - started) / 1000;
    }
    await options.pause?.();
  }
  return results;
}
