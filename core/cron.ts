/**
 * Five-field cron expressions, parsed the way Temporal Schedules read them: minute, hour,
 * day of month, month, day of week; a time matches when EVERY field matches (Temporal does
 * not implement the "day of month OR day of week" special case of Vixie cron).
 *
 * Each field is a comma-separated list of `*`, `*\/step`, `value`, `start-end` or
 * `start-end/step`; months and days of the week also take English names (`JAN`, `MON-FRI`),
 * and day of week 7 is Sunday like 0. The macros `@yearly`, `@annually`, `@monthly`,
 * `@weekly`, `@daily`, `@midnight` and `@hourly` stand for their five fields.
 * Pure and linear in the length of the expression.
 */

export interface CronField {
  /** The values this field allows, ascending and distinct (day of week: 0 = Sunday … 6). */
  values: number[];
  /** True when the field allows every value of its range (`*` or the same set spelled out). */
  any: boolean;
}

export interface CronSchedule {
  /** The five fields as written (after expanding a macro). */
  expression: string;
  minute: CronField;
  hour: CronField;
  dayOfMonth: CronField;
  /** 1 = January … 12. */
  month: CronField;
  /** 0 = Sunday … 6 = Saturday. */
  dayOfWeek: CronField;
  /** Whether a local wall-clock time matches; month 1–12, weekday 0 = Sunday. */
  matches(time: { minute: number; hour: number; day: number; month: number; weekday: number }): boolean;
}

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRule {
  name: string;
  min: number;
  max: number;
  /** Names for min, min + 1, … */
  names?: string[];
}

const FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // 7 is Sunday too; folded into 0 after parsing.
  { name: 'day of week', min: 0, max: 7, names: DAY_NAMES },
];

/** Parses a five-field cron expression; throws a TypeError saying what is wrong and how to write it. */
export function parseCron(expression: string): CronSchedule {
  if (typeof expression !== 'string') throw new TypeError('cron must be a string such as "0 8 * * 1-5".');
  const trimmed = expression.trim();
  if (/^(CRON_)?TZ=/i.test(trimmed))
    throw new TypeError(`cron "${expression}" names a time zone: use the trigger's timezone option instead.`);
  if (trimmed.includes('#')) throw new TypeError(`cron "${expression}": comments and "#" (nth weekday) are not supported.`);
  let text = trimmed;
  if (trimmed.startsWith('@')) {
    const macro = MACROS[trimmed.toLowerCase()];
    if (!macro) {
      const hint = trimmed.toLowerCase().startsWith('@every')
        ? ' Use the trigger\'s `every` option (e.g. every: "15 minutes").'
        : ` Supported: ${Object.keys(MACROS).join(', ')}.`;
      throw new TypeError(`cron "${expression}": unsupported macro.${hint}`);
    }
    text = macro;
  }
  const parts = text.split(/\s+/).filter(Boolean);
  if (parts.length !== 5) {
    const extra = parts.length === 6 || parts.length === 7 ? ' Seconds and years are not supported.' : '';
    throw new TypeError(
      `cron "${expression}" has ${parts.length} fields; write five: minute hour day-of-month month day-of-week (e.g. "0 8 * * 1-5").${extra}`,
    );
  }
  const [minute, hour, dayOfMonth, month, dayOfWeekRaw] = parts.map((part, index) => parseField(part, FIELDS[index]!, expression)) as [
    CronField,
    CronField,
    CronField,
    CronField,
    CronField,
  ];
  const dayOfWeek = foldSunday(dayOfWeekRaw);
  const minuteSet = toLookup(minute.values, 60);
  const hourSet = toLookup(hour.values, 24);
  const daySet = toLookup(dayOfMonth.values, 32);
  const monthSet = toLookup(month.values, 13);
  const weekdaySet = toLookup(dayOfWeek.values, 7);
  return {
    expression: text,
    minute,
    hour,
    dayOfMonth,
    month,
    dayOfWeek,
    matches: (time) =>
      minuteSet[time.minute] === 1 &&
      hourSet[time.hour] === 1 &&
      daySet[time.day] === 1 &&
      monthSet[time.month] === 1 &&
      weekdaySet[time.weekday] === 1,
  };
}

function parseField(text: string, rule: FieldRule, expression: string): CronField {
  const fail = (why: string): never => {
    throw new TypeError(`cron "${expression}": ${rule.name} field "${text}" ${why}.`);
  };
  const allowed = new Uint8Array(rule.max + 1);
  for (const item of text.split(',')) {
    if (item === '') fail('has an empty list item');
    const [rangeText, stepText, ...rest] = item.split('/');
    if (rest.length) fail('has more than one "/"');
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d{1,2}$/.test(stepText) || Number(stepText) < 1) fail(`has step "${stepText}"; a step is a whole number from 1`);
      step = Number(stepText);
    }
    let start: number;
    let end: number;
    if (rangeText === '*') {
      start = rule.min;
      end = rule.name === 'day of week' ? 6 : rule.max;
    } else {
      const bounds = rangeText!.split('-');
      if (bounds.length > 2) fail('has a range with more than one "-"');
      start = parseValue(bounds[0]!, rule, fail);
      end = bounds.length === 2 ? parseValue(bounds[1]!, rule, fail) : start;
      // Temporal would read "5/15" as "5 only" or "5 to the end" depending on the parser; make it explicit.
      if (bounds.length === 1 && stepText !== undefined)
        fail(`has a step without a range; write "${bounds[0]}-${rule.max}/${stepText}" or "*/${stepText}"`);
      if (end < start) fail(`has a range that runs backwards (${start} > ${end})`);
    }
    for (let value = start; value <= end; value += step) allowed[value] = 1;
  }
  const values: number[] = [];
  for (let value = rule.min; value <= rule.max; value += 1) if (allowed[value]) values.push(value);
  return { values, any: values.length === rule.max - rule.min + 1 };
}

function parseValue(text: string, rule: FieldRule, fail: (why: string) => never): number {
  if (/^\d{1,2}$/.test(text)) {
    const value = Number(text);
    if (value < rule.min || value > rule.max) fail(`has ${value}, outside ${rule.min}–${rule.max}`);
    return value;
  }
  const index = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index < 0) {
    const names = rule.names ? ` or a name (${rule.names[0]}…${rule.names.at(-1)})` : '';
    return fail(`contains "${text}"; expected ${rule.min}–${rule.max}${names}, "*", a range "a-b" or a step "a-b/n"`);
  }
  return rule.min + index;
}

/** Day of week 7 is Sunday: fold it into 0 so each day has one number. */
function foldSunday(field: CronField): CronField {
  const set = new Set(field.values.map((value) => (value === 7 ? 0 : value)));
  const values = [...set].sort((a, b) => a - b);
  return { values, any: values.length === 7 };
}

function toLookup(values: number[], size: number): Uint8Array {
  const lookup = new Uint8Array(size);
  for (const value of values) lookup[value] = 1;
  return lookup;
}
