import { basename } from 'node:path';
import { Hono } from 'hono';
import type { TranscriptStore } from '../store/transcript-store.ts';
import { isMessageRef } from '../store/transcript-store.ts';
import { loadAll } from '../store/transcript-chain.ts';
import { listResults, readResults } from './files.ts';

export interface EvalRoutesOptions {
  /** Where `npm run eval -- run` writes its results. */
  resultsDirectory: string;
  /** The store eval runs keep their transcripts in (`npm run eval` uses the stack's). */
  store: TranscriptStore;
}

/**
 * The console's Evals pane: the runs in the results folder, one run's cases, and a case's
 * transcript from the store. A run is named by its file's name only, and only one the
 * folder lists: no path reaches the disk from a request.
 */
export function evalRoutes(options: EvalRoutesOptions): Hono {
  const app = new Hono();
  const files = () => new Map(listResults(options.resultsDirectory).map((file) => [basename(file), file]));

  app.get('/', (c) =>
    c.json({
      runs: [...files()].flatMap(([name, file]) => {
        try {
          const run = readResults(file);
          return [
            {
              name,
              agent: run.agent,
              label: run.configuration.label,
              model: run.configuration.model,
              startedAt: run.startedAt,
              ...run.summary,
            },
          ];
        } catch {
          return [];
        }
      }),
    }),
  );

  app.get('/:name', (c) => {
    const file = files().get(c.req.param('name'));
    if (!file) return c.json({ ok: false, error: 'No such eval run.' }, 404);
    return c.json(readResults(file));
  });

  app.get('/:name/cases/:id/transcript', async (c) => {
    const file = files().get(c.req.param('name'));
    const result = file ? readResults(file).cases.find((candidate) => candidate.id === c.req.param('id')) : undefined;
    if (!result) return c.json({ ok: false, error: 'No such case in this eval run.' }, 404);
    if (!result.transcriptHead || !isMessageRef(result.transcriptHead))
      return c.json({ ok: false, error: 'This case kept no transcript (its run failed).' }, 404);
    try {
      return c.json({ messages: await loadAll(options.store, result.transcriptHead) });
    } catch (error) {
      return c.json(
        { ok: false, error: `The transcript is not in this store (${(error as Error).name}): the run kept it in another TRANSCRIPT_DIR.` },
        404,
      );
    }
  });
  return app;
}
