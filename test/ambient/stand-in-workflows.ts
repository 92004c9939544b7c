// A test peer, not product: a stand-in `ambientRun` that runs until told to finish, so the
// schedule tests can hold a run open and watch what a second trigger does.
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import type { AmbientRunInput, AmbientRunResult } from '../../core/ambient.ts';

export const finishSignal = defineSignal('finish');

export async function ambientRun(_input: AmbientRunInput): Promise<AmbientRunResult> {
  let finished = false;
  setHandler(finishSignal, () => {
    finished = true;
  });
  await condition(() => finished, '2 minutes');
  return { outcome: 'quiet', summary: 'nothing new' };
}
