import { describe, expect, it } from 'vitest';
import { refOf } from '../../store/transcript-store.ts';
import { desiredSchedule } from '../../temporal-client/schedule-spec.ts';

/**
 * Content addresses and schedule digests both hash `store/canonical-json.ts`'s text. Stored
 * transcripts are named by the first and live schedules carry the second in their memo, so
 * the text for a given value must never change: these hashes were taken before the schedule
 * digest stopped keeping a canonical JSON of its own.
 */
describe('hashes of canonical JSON stay as recorded', () => {
  it('a content address', () => {
    expect(refOf({ b: 2, a: 1 })).toBe('sha256:43258cff783fe7036d8a43033f830adfc60ec037382473548ac742b888292777');
  });

  it("a definition schedule's digest and a chat schedule's digest", () => {
    const place = { taskQueue: 'agents', deployment: 'prod' };
    const morning = desiredSchedule(
      'digest',
      {
        id: 'morning',
        cron: '0 8 * * 1-5',
        timezone: 'Europe/Paris',
        prompt: 'What is new?',
        deliver: { kind: 'slack', channel: 'C0123ABCD' },
        approvers: ['U1'],
      },
      place,
    );
    expect(morning.memo.digest).toBe('10b7d02ec6d59981fcdd01164b136d7c');
    const tick = desiredSchedule(
      'digest',
      {
        id: 'tick',
        every: '15 minutes',
        timezone: 'UTC',
        prompt: 'Summarise.',
        deliver: { kind: 'email', to: ['ops@example.com'] },
        approvers: [],
      },
      place,
      { owner: 'U42', conversationId: 'C0123ABCD:1700000000.000100' },
    );
    expect(tick.memo.digest).toBe('ab71756ee543fed43be285de0eb4a423');
  });
});
