import { describe, expect, it } from 'vitest';
import { parseCron } from '../../core/cron.ts';
import { defineAgent } from '../../authoring/define-agent.ts';
import { validateTrigger, validateTriggers, type TriggerOptions } from '../../core/triggers.ts';

// A fixed start for the daylight-saving check: the next transitions are 2027's.
const now = Date.parse('2026-12-01T00:00:00Z');
const slack = { kind: 'slack', channel: 'C0123ABCD' } as const;
const trigger = (fields: Partial<TriggerOptions>): TriggerOptions => ({ id: 'morning', prompt: 'What is new?', deliver: slack, ...fields });
const validate = (fields: Partial<TriggerOptions>) => validateTrigger('digest', trigger(fields), { now });

describe('cron parser', () => {
  it('reads numbers, ranges, steps, lists, names and *', () => {
    const cron = parseCron('0,30 8-17/3 1,15 jan-mar,DEC mon-fri');
    expect(cron.minute.values).toEqual([0, 30]);
    expect(cron.hour.values).toEqual([8, 11, 14, 17]);
    expect(cron.dayOfMonth.values).toEqual([1, 15]);
    expect(cron.month.values).toEqual([1, 2, 3, 12]);
    expect(cron.dayOfWeek.values).toEqual([1, 2, 3, 4, 5]);
    expect(parseCron('*/15 * * * *').minute.values).toEqual([0, 15, 30, 45]);
    expect(parseCron('* * * * *').hour.any).toBe(true);
    expect(parseCron('0 8 * * 5-7').dayOfWeek.values).toEqual([0, 5, 6]);
    expect(parseCron('0 8 * * 0-7').dayOfWeek.any).toBe(true);
  });

  it('matches when every field matches (Temporal does not OR day of month and day of week)', () => {
    const cron = parseCron('0 8 13 * FRI');
    expect(cron.matches({ minute: 0, hour: 8, day: 13, month: 2, weekday: 5 })).toBe(true);
    expect(cron.matches({ minute: 0, hour: 8, day: 13, month: 2, weekday: 4 })).toBe(false);
    expect(cron.matches({ minute: 0, hour: 8, day: 14, month: 2, weekday: 5 })).toBe(false);
  });

  it('expands the supported macros', () => {
    expect(parseCron('@daily').expression).toBe('0 0 * * *');
    expect(parseCron('@hourly').expression).toBe('0 * * * *');
    expect(parseCron('@weekly').expression).toBe('0 0 * * 0');
  });

  it.each([
    ['0 0 8 * * *', /has 6 fields; write five.*Seconds and years are not supported/],
    ['0 8 * *', /has 4 fields/],
    ['@every 5m', /unsupported macro\. Use the trigger's `every` option/],
    ['@reboot', /unsupported macro\. Supported: @yearly/],
    ['CRON_TZ=Europe/Paris 0 8 * * *', /use the trigger's timezone option/],
    ['60 * * * *', /minute field "60" has 60, outside 0–59/],
    ['0 24 * * *', /hour field "24" has 24, outside 0–23/],
    ['0 8 0 * *', /day of month field "0" has 0, outside 1–31/],
    ['0 8 * 13 *', /month field "13"/],
    ['0 8 * * 8', /day of week field "8"/],
    ['0 8 * FOO *', /month field "FOO" contains "FOO"; expected 1–12 or a name \(JAN…DEC\)/],
    ['5/10 * * * *', /step without a range; write "5-59\/10" or "\*\/10"/],
    ['*/0 * * * *', /step "0"/],
    ['0 17-8 * * *', /runs backwards/],
    ['0 8 ? * *', /day of month field "\?"/],
    ['0 8 L * *', /day of month field "L"/],
    ['0 8 * * 1#2', /"#" \(nth weekday\) are not supported/],
    ['0,,5 8 * * *', /empty list item/],
  ])('refuses %s', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(TypeError);
    expect(() => parseCron(expression)).toThrow(message);
  });
});

describe('trigger validation', () => {
  it('fills defaults and keeps pure JSON', () => {
    const spec = validate({ cron: ' 0 8 * * 1-5 ' });
    expect(spec).toEqual({ id: 'morning', cron: '0 8 * * 1-5', timezone: 'UTC', prompt: 'What is new?', deliver: slack, approvers: [] });
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
    expect(validate({ every: '15 minutes', deliver: { kind: 'email', to: ['ops@example.com'] }, approvers: ['U123'] })).toEqual({
      id: 'morning',
      every: '15 minutes',
      timezone: 'UTC',
      prompt: 'What is new?',
      deliver: { kind: 'email', to: ['ops@example.com'] },
      approvers: ['U123'],
    });
  });

  it('names the agent and the trigger in every error', () => {
    expect(() => validate({ cron: '61 * * * *' })).toThrow(/^Agent "digest", trigger "morning": cron "61 \* \* \* \*": minute field/);
  });

  it('accepts IANA zones and UTC, refuses unknown zones, offsets and miscased names', () => {
    expect(validate({ cron: '0 8 * * *', timezone: 'Europe/Paris' }).timezone).toBe('Europe/Paris');
    expect(validate({ cron: '0 8 * * *', timezone: 'UTC' }).timezone).toBe('UTC');
    expect(validate({ cron: '0 8 * * *', timezone: 'Asia/Kolkata' }).timezone).toBe('Asia/Kolkata');
    expect(() => validate({ cron: '0 8 * * *', timezone: 'Mars/Olympus' })).toThrow(
      /trigger "morning": "Mars\/Olympus" is not an IANA time zone/,
    );
    expect(() => validate({ cron: '0 8 * * *', timezone: '+05:00' })).toThrow(/is an offset, not a zone/);
    expect(() => validate({ cron: '0 8 * * *', timezone: 'europe/paris' })).toThrow(/write the time zone as "Europe\/Paris"/);
  });

  it('refuses intervals under one minute and things that are not durations', () => {
    expect(validate({ every: '1 minute' }).every).toBe('1 minute');
    expect(validate({ every: 60_000 }).every).toBe(60_000);
    expect(validate({ every: '2h' }).every).toBe('2h');
    expect(() => validate({ every: '30 seconds' })).toThrow(/every "30 seconds" is under one minute/);
    expect(() => validate({ every: 59_999 })).toThrow(/under one minute/);
    expect(() => validate({ every: 'soon' as never })).toThrow(/is not a duration/);
  });

  it('refuses a cron local time that a daylight-saving change skips', () => {
    expect(() => validate({ cron: '30 2 * * *', timezone: 'America/New_York' })).toThrow(
      /trigger "morning": cron "30 2 \* \* \*" fires at 02:30 in America\/New_York, which does not exist on 2027-03-14 \(clocks go forward\)/,
    );
    expect(() => validate({ cron: '30 2 * * *', timezone: 'Europe/Paris' })).toThrow(
      /02:30 in Europe\/Paris, which does not exist on 2027-03-28/,
    );
    // Every other hour in a DST zone loses a run on spring-forward day.
    expect(() => validate({ cron: '0 */2 * * *', timezone: 'America/New_York' })).toThrow(/fires at 02:00/);
    // Lord Howe moves by 30 minutes: even an hourly cron is off its cadence there.
    expect(() => validate({ cron: '0 * * * *', timezone: 'Australia/Lord_Howe' })).toThrow(/02:00 in Australia\/Lord_Howe/);
  });

  it('refuses a cron local time that a daylight-saving change repeats', () => {
    expect(() => validate({ cron: '30 1 * * *', timezone: 'America/New_York' })).toThrow(
      /fires at 01:30 in America\/New_York, which happens twice on 2027-11-07 \(clocks go back\)/,
    );
    // The US changes on Sundays: a Sunday-only cron at 01:30 still repeats.
    expect(() => validate({ cron: '30 1 * * SUN', timezone: 'America/New_York' })).toThrow(/happens twice/);
  });

  it('accepts crons that miss every change, crons in UTC, and hourly crons in whole-hour zones', () => {
    expect(validate({ cron: '30 2 * * *', timezone: 'UTC' }).cron).toBe('30 2 * * *');
    expect(validate({ cron: '0 8 * * 1-5', timezone: 'America/New_York' }).cron).toBe('0 8 * * 1-5');
    // The US changes on Sundays: Mondays at 02:30 always exist.
    expect(validate({ cron: '30 2 * * MON', timezone: 'America/New_York' }).cron).toBe('30 2 * * MON');
    // The 1st of a month: 02:30 is skipped only on a second Sunday of March, never the 1st.
    expect(validate({ cron: '30 2 1 * *', timezone: 'America/New_York' }).cron).toBe('30 2 1 * *');
    expect(validate({ cron: '*/15 * * * *', timezone: 'America/New_York' }).cron).toBe('*/15 * * * *');
    expect(validate({ cron: '30 2 * * *', timezone: 'Asia/Tokyo' }).cron).toBe('30 2 * * *');
  });

  it.each<[Partial<TriggerOptions>, RegExp]>([
    [{ id: 'Morning', cron: '0 8 * * *' }, /trigger "Morning": the id must match/],
    [{ id: 'a'.repeat(41), cron: '0 8 * * *' }, /the id must match/],
    [{}, /set exactly one of `cron`/],
    [{ cron: '0 8 * * *', every: '1 hour' }, /set exactly one of `cron`/],
    [{ cron: '0 8 * * *', prompt: '  ' }, /`prompt` must be a non-empty string/],
    [{ cron: '0 8 * * *', deliver: { kind: 'slack', channel: '#general' } }, /must be a Slack channel id/],
    [{ cron: '0 8 * * *', deliver: { kind: 'email', to: [] } }, /at least one email address/],
    [{ cron: '0 8 * * *', deliver: { kind: 'email', to: ['Ops <ops@example.com>'] } }, /is not a plain email address/],
    [{ cron: '0 8 * * *', deliver: { kind: 'sms' } as never }, /deliver must be/],
    [{ cron: '0 8 * * *', approvers: [''] }, /`approvers` must be a list/],
  ])('refuses %j', (fields, message) => {
    expect(() => validate(fields)).toThrow(TypeError);
    expect(() => validate(fields)).toThrow(message);
  });

  it('refuses two triggers with one id', () => {
    expect(() => validateTriggers('digest', [trigger({ cron: '0 8 * * *' }), trigger({ every: '1 hour' })], { now })).toThrow(
      /Agent "digest" lists trigger "morning" twice/,
    );
  });

  it('validates 100 triggers well under a second', () => {
    const zones = [
      'UTC',
      'America/New_York',
      'Europe/Paris',
      'Asia/Tokyo',
      'Australia/Sydney',
      'America/Sao_Paulo',
      'Africa/Casablanca',
      'Pacific/Auckland',
      'Europe/London',
      'America/Los_Angeles',
    ];
    const triggers = Array.from({ length: 100 }, (_, index) =>
      trigger({ id: `t${index}`, cron: `${index % 60} ${8 + (index % 10)} * * 1-5`, timezone: zones[index % zones.length]! }),
    );
    const started = performance.now();
    expect(validateTriggers('digest', triggers, { now })).toHaveLength(100);
    // Typically 20–150 ms (cold zones on a loaded two-core machine at the top end).
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('defineAgent triggers', () => {
  it('carries validated triggers, none by default', () => {
    expect(defineAgent({ name: 'plain', instructions: 'Help.' }).triggers).toEqual([]);
    const agent = defineAgent({
      name: 'digest',
      instructions: 'Digest.',
      triggers: [{ id: 'morning', cron: '0 8 * * 1-5', timezone: 'Europe/Paris', prompt: 'News?', deliver: slack }],
    });
    expect(agent.triggers).toEqual([
      { id: 'morning', cron: '0 8 * * 1-5', timezone: 'Europe/Paris', prompt: 'News?', deliver: slack, approvers: [] },
    ]);
  });

  it('fails with a TypeError naming agent and trigger', () => {
    expect(() =>
      defineAgent({
        name: 'digest',
        instructions: 'Digest.',
        triggers: [{ id: 'night', cron: '30 2 * * *', timezone: 'America/New_York', prompt: 'News?', deliver: slack }],
      }),
    ).toThrow(/^Agent "digest", trigger "night": cron "30 2 \* \* \*" fires at 02:30 in America\/New_York/);
  });
});
