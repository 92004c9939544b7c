import { msToNumber } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { duration } from '../../config/load-settings.ts';
import { durationMs, parseDuration } from '../../core/duration.ts';
import { validateTrigger } from '../../core/triggers.ts';

/**
 * One table for the three places that read a duration: workflow code (`durationMs`), an
 * agent's trigger (`every`), and a setting (`duration()`). All three must agree, and agree
 * with Temporal's own reader, because every one of these strings ends up at Temporal.
 * Accepted values are at least a minute so the trigger's minimum interval does not interfere.
 */
const table: [string, boolean][] = [
  ['15 minutes', true],
  ['1.5h', true],
  ['2 days', true],
  ['1 week', true],
  ['1 year', true],
  ['90 secs', true],
  ['60000', true],
  ['5 Minutes', true],
  ['', false],
  ['5 parsecs', false],
  ['soon', false],
  ['1 fortnight', false],
  ['1h30m', false],
  ['-', false],
  [`${'1'.repeat(190)} milliseconds`, false],
];

const workflowAccepts = (value: string) => {
  try {
    durationMs(value as '1s');
    return true;
  } catch {
    return false;
  }
};

const triggerAccepts = (value: string) => {
  try {
    validateTrigger('digest', {
      id: 'tick',
      every: value as '1s',
      prompt: 'Summarise.',
      deliver: { kind: 'email', to: ['ops@example.com'] },
    });
    return true;
  } catch (error) {
    expect((error as Error).message).toMatch(/is not a duration such as/);
    return false;
  }
};

/** The fallback path skips the trimming and blank-means-unset of an environment value, so it sees the string itself. */
const settingAccepts = (value: string) => duration('TEST_INTERVAL', value).safeParse(undefined).success;

const temporalAccepts = (value: string) => {
  try {
    msToNumber(value as '1s');
    return true;
  } catch {
    return false;
  }
};

describe('one duration grammar', () => {
  it.each(table)('%j: accepted = %s by workflows, triggers, settings and Temporal alike', (value, accepted) => {
    expect({
      workflow: workflowAccepts(value),
      trigger: triggerAccepts(value),
      setting: settingAccepts(value),
      temporal: temporalAccepts(value),
    }).toEqual({
      workflow: accepted,
      trigger: accepted,
      setting: accepted,
      temporal: accepted,
    });
    if (accepted) expect(parseDuration(value)).toBe(msToNumber(value as '1s'));
    else expect(parseDuration(value)).toBeUndefined();
  });

  it('a setting read from the environment is trimmed first, and blank means its fallback', () => {
    const setting = duration('TEST_INTERVAL', '30 seconds');
    expect(setting.parse(' 2 days ')).toBe('2 days');
    expect(setting.parse('')).toBe('30 seconds');
    expect(setting.safeParse('5 parsecs').error?.issues[0]?.message).toBe(
      "TEST_INTERVAL must be a duration such as '30 seconds', '1 hour' or '24h'",
    );
  });

  it('a setting refuses a negative duration, which the grammar reads', () => {
    expect(parseDuration('-5 minutes')).toBe(-300_000);
    expect(duration('TEST_INTERVAL', '30 seconds').safeParse('-5 minutes').success).toBe(false);
  });
});
